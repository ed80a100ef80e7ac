-- etc-overlay.lua: per-namespace /etc files (the /etc/netns binding of
-- `ip netns exec`).
--
-- Namespace "a" gets its own resolv.conf, hosts and dnsmasq.conf (the host has
-- no /etc/dnsmasq.conf at all); programs run inside see them at /etc/..., the
-- host's files stay as they were. Namespace "b" gets nothing but nslua's
-- default: a private copy of the host's resolv.conf. A program in "a" that
-- rewrites /etc/resolv.conf rewrites a's copy only.
--
--   nslua examples/etc-overlay.lua

local p = ns.lab().name .. "-"

local function read(path)
	local f = io.open(path, "r")
	if not f then
		return nil
	end
	local s = f:read("*a")
	f:close()
	return s
end

local RESOLV = "nameserver 10.70.0.53\nsearch lab.example\n"
local HOSTS = "127.0.0.1 localhost\n10.70.0.2 peer.lab.example peer\n"
local DNSMASQ = "port=0\ninterface=eth0\ndhcp-range=10.70.0.100,10.70.0.150,1h\n"
local before = {resolv = read("/etc/resolv.conf"), hosts = read("/etc/hosts"), dnsmasq = read("/etc/dnsmasq.conf")}

local a = ns.add(p .. "a", {etc = {["resolv.conf"] = RESOLV, hosts = HOSTS, ["dnsmasq.conf"] = DNSMASQ}})
local b = ns.add(p .. "b")

local function inside(n, cmd)
	local r = n:exec(cmd)
	if r.code ~= 0 then
		error(("in %s: %s exited with %d: %s"):format(n.name, table.concat(cmd, " "), r.code, r.stderr))
	end
	return r.stdout
end

local function expect(what, got, want)
	if got ~= want then
		error(("%s:\n%s\nwant:\n%s"):format(what, tostring(got), tostring(want)))
	end
	print(what .. ":\n  " .. got:gsub("\n$", ""):gsub("\n", "\n  "))
end

-- inside a: the namespace's files
expect("in " .. a.name .. ", cat /etc/resolv.conf", inside(a, {"cat", "/etc/resolv.conf"}), RESOLV)
expect("in " .. a.name .. ", getent hosts peer", inside(a, {"getent", "hosts", "peer"}),
	"10.70.0.2       peer.lab.example peer\n")
expect("in " .. a.name .. ", cat /etc/dnsmasq.conf", inside(a, {"cat", "/etc/dnsmasq.conf"}), DNSMASQ)
-- dnsmasq reads /etc/dnsmasq.conf by default: it checks a's file
local check = a:exec({"dnsmasq", "--test"})
if not (check.stdout .. check.stderr):find("syntax check OK", 1, true) then
	error("dnsmasq --test in " .. a.name .. ": " .. check.stdout .. check.stderr)
end
print("in " .. a.name .. ", dnsmasq --test: " .. (check.stdout .. check.stderr):gsub("\n", ""))

-- inside b: nslua's default private copy of the host's resolv.conf, the host's hosts
expect("in " .. b.name .. ", cat /etc/resolv.conf", inside(b, {"cat", "/etc/resolv.conf"}), before.resolv)
if inside(b, {"cat", "/etc/hosts"}) ~= before.hosts then
	error("in " .. b.name .. ", /etc/hosts differs from the host's")
end
print("in " .. b.name .. ", /etc/hosts is the host's")
if b:exec({"cat", "/etc/dnsmasq.conf"}).code == 0 then
	error("in " .. b.name .. ", /etc/dnsmasq.conf exists")
end
print("in " .. b.name .. ", /etc/dnsmasq.conf: none")

-- a program in a rewrites /etc/resolv.conf (in place, as resolvers' scripts do)
inside(a, {"/bin/sh", "-c", "echo 'nameserver 10.70.0.54' > /etc/resolv.conf"})
expect("after a rewrite inside " .. a.name .. ", " .. a.name .. ":etc(\"resolv.conf\")", a:etc("resolv.conf"),
	"nameserver 10.70.0.54\n")

-- outside: untouched
if read("/etc/resolv.conf") ~= before.resolv or read("/etc/hosts") ~= before.hosts
	or read("/etc/dnsmasq.conf") ~= before.dnsmasq then
	error("the host's /etc changed")
end
print("on the host: /etc/resolv.conf and /etc/hosts unchanged, " ..
	(before.dnsmasq and "/etc/dnsmasq.conf unchanged" or "still no /etc/dnsmasq.conf"))
print("ok: each namespace sees its own /etc files")

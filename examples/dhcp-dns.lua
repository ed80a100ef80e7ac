-- dhcp-dns.lua: the most common dnsmasq lab, DHCP and DNS together. dnsmasq in
-- an "ap" namespace leases addresses on its bridge and answers for the lab's
-- names (no upstream): a client gets a lease, its resolv.conf points at the
-- server, and it resolves the "web" namespace's name to its static address;
-- "web" resolves the client by the host name it sent with its DHCP request.
--
--   nslua examples/dhcp-dns.lua
--   nslua -i examples/dhcp-dns.lua     then, at the prompt: client:exec("getent hosts " .. web.name)

local topo = require("nslua.topo")
local dhcp = require("nslua.dhcp")

local p = ns.lab().name .. "-"
local star = topo.star{prefix = p, names = {p .. "web", p .. "client"}, subnet = "10.67.0.0/24",
	hub = p .. "ap", leaf_addr = false}
local web, client = star.leaves[1].ns, star.leaves[2].ns
star.leaves[1].link:addr("10.67.0.10/24")

-- dns_names = true: every namespace of this lab, by name, with its addresses
local srv = dhcp.server(star.hub, {iface = "br0", range = {100, 150}, domain = "lab.test", dns_names = true})
print(srv)

local lease = dhcp.udhcpc(client, "eth0", {resolv = true})
print(lease)
print("client's resolv.conf: " .. client:exec({"cat", "/etc/resolv.conf"}).stdout:gsub("\n", "; "))

local function resolve(from, name, want, how)
	local r = from:exec(how)
	-- getent prints "IP NAME"; nslookup names the server first, then "Name: ... Address: IP"
	local got = (r.stdout:match("Name:.*") or r.stdout):match("(%d+%.%d+%.%d+%.%d+)")
	if r.code ~= 0 or got ~= want then
		error(("%s: %s resolves to %s, want %s (exit %d):\n%s%s"):format(from.name, name, tostring(got), want,
			r.code, r.stdout, r.stderr))
	end
	print(("  %s resolves %s: %s"):format(from.name, name, got))
end

-- through the C library (nsswitch: files, then the DNS server of resolv.conf)
resolve(client, web.name, "10.67.0.10", {"getent", "hosts", web.name})
resolve(client, web.name .. ".lab.test", "10.67.0.10", {"getent", "hosts", web.name .. ".lab.test"})
-- asking the server directly: the client's name comes from its lease
resolve(web, client.name, lease.ip, {"busybox", "nslookup", "-type=a", client.name, star.gateway})

local r = client:exec({"getent", "hosts", "example.com"})
if r.code == 0 then
	error("example.com resolved, but the lab's DNS has no upstream: " .. r.stdout)
end
print("  example.com does not resolve: no upstream")
print("ok: a lease, the lab's names resolve")

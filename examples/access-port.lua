-- access-port.lua: an IEEE 802.1X access-controlled switch port.
--
-- A "switch" namespace holds a bridge with a DHCP server on it; the client's
-- port is locked (the bridge drops the client's frames) until hostapd, running
-- on that port with its internal EAP server, authenticates the client. Then a
-- hostapd_cli action script opens the port to the client's MAC.
--
--   nslua examples/access-port.lua [peap|md5|ttls|tls] [wrong]
--
-- Before login the client gets no lease. With the right credentials (PEAP/MSCHAPv2
-- by default) it authenticates, gets a lease and pings the gateway; with "wrong"
-- (a wrong password; for TLS, a valid certificate but an identity the server does
-- not know) it gets neither.

local topo = require("nslua.topo")
local dhcp = require("nslua.dhcp")
local ap = require("nslua.ap")

local method = (arg[1] or "peap"):upper()
local wrong = arg[2] == "wrong"
if not ({PEAP = true, MD5 = true, TTLS = true, TLS = true})[method] or (arg[2] and not wrong) then
	error("usage: nslua access-port.lua [peap|md5|ttls|tls] [wrong]")
end

local p = ns.lab().name .. "-"
local star = topo.star{prefix = p, n = 1, subnet = "10.67.0.0/24", hub = p .. "sw", leaf_addr = false}
local client = star.leaves[1]
local mac = client.link:mac()
dhcp.server(star.hub, {iface = "br0", range = {100, 150}})
local port = ap.locked_port(star.hub, {port = client.port.name, users = {alice = "secret"}})
print(port)

-- 1. Before login the locked port drops the client's DHCPDISCOVERs.
local lease, why = dhcp.udhcpc(client.ns, "eth0", {tries = 2, check = false})
if lease then
	error("the client got a lease before logging in: " .. tostring(lease))
end
print("before login: no lease (" .. why .. ")")

-- 2. Log in.
local identity, password = "alice", "secret"
if wrong then
	password = "not-the-password"
	if method == "TLS" then
		identity = "mallory" -- a certificate from the lab CA, but not a known user
	end
end
print(("logging in as %s with %s%s"):format(identity, method, wrong and " and wrong credentials" or ""))
local sup = ap.supplicant(client.ns, {iface = "eth0", method = method, identity = identity, password = password})
local ok, err = sup:wait(15)
if ok then
	port:wait(mac) -- hostapd_cli's action script opens the port a moment after EAP-Success
end
local allowed = port:allowed()
print(("  authenticated: %s%s; port lets in: %s"):format(tostring(ok), ok and "" or (" (" .. err .. ")"),
	#allowed > 0 and table.concat(allowed, " ") or "nobody"))

-- 3. After login: a lease and a ping, or neither.
lease, why = dhcp.udhcpc(client.ns, "eth0", {tries = 2, check = false})
if wrong then
	if ok then
		error("authentication succeeded with wrong credentials")
	end
	if #allowed > 0 then
		error("the port lets in " .. table.concat(allowed, " ") .. " after a failed login")
	end
	if lease then
		error("the client got a lease after a failed login: " .. tostring(lease))
	end
	print("after the failed login: still no lease (" .. why .. ")")
	print("ok: " .. method .. " with wrong credentials was refused")
	return
end
if not ok then
	error(err)
end
if #allowed ~= 1 or allowed[1] ~= mac then
	error(("the port lets in {%s}, want {%s}"):format(table.concat(allowed, " "), mac))
end
if not lease then
	error("no lease after a good login: " .. why)
end
print("after login: " .. tostring(lease))
local r = client.ns:exec({"ping", "-c", "1", "-W", "2", star.gateway})
if r.code ~= 0 then
	error("the client cannot ping the gateway " .. star.gateway .. ":\n" .. r.stdout)
end
print(("  pings %s: %s"):format(star.gateway, r.stdout:match("time=[%d%.]+ ms")))
for _, s in ipairs(port:stations()) do
	print(("  hostapd: station %s user %s method %s authorized %s"):format(s.mac, tostring(s.user),
		tostring(s.method), tostring(s.authorized)))
end
print("ok: " .. method .. " login opened the port")

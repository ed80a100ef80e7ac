-- dhcp.lua: dnsmasq in an "ap" namespace leases addresses to three client
-- namespaces on its bridge; two clients use busybox udhcpc, one ISC dhclient.
-- Each client pings the server; the server's lease file is listed.
--
--   nslua examples/dhcp.lua

local topo = require("nslua.topo")
local dhcp = require("nslua.dhcp")

local p = ns.lab().name .. "-"
local star = topo.star{prefix = p, n = 3, subnet = "10.66.0.0/24", hub = p .. "ap", leaf_addr = false}
local srv = dhcp.server(star.hub, {iface = "br0", range = {100, 150}, dns = star.gateway, domain = "lab.test"})
print(srv)

local leases = {}
for i, leaf in ipairs(star.leaves) do
	local client = i == 2 and dhcp.dhclient or dhcp.udhcpc
	local l = client(leaf.ns, "eth0")
	leases[i] = l
	print(l)
	if l.router ~= star.gateway then
		error(("%s: router %s, want %s"):format(leaf.name, tostring(l.router), star.gateway))
	end
	local r = leaf.ns:exec({"ping", "-c", "1", "-W", "2", star.gateway})
	if r.code ~= 0 then
		error(("%s (%s) cannot ping the server %s:\n%s"):format(leaf.name, l.ip, star.gateway, r.stdout))
	end
	print(("  %s pings %s: %s"):format(leaf.name, star.gateway, r.stdout:match("time=[%d%.]+ ms")))
end

print("leases held by dnsmasq:")
local held = srv:leases()
for _, l in ipairs(held) do
	print(("  %-15s %s  %s"):format(l.ip, l.mac, l.hostname or "*"))
end
if #held ~= #leases then
	error(("dnsmasq holds %d leases, want %d"):format(#held, #leases))
end
for i, l in ipairs(leases) do
	local found = false
	for _, h in ipairs(held) do
		found = found or (h.ip == l.ip and h.hostname == star.leaves[i].name)
	end
	if not found then
		error(("no lease for %s (%s) in dnsmasq's lease file"):format(star.leaves[i].name, l.ip))
	end
end
print("ok: 3 leases, 3 pings")

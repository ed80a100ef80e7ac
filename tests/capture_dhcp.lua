-- capture_dhcp.lua FILE: a DHCP exchange (dnsmasq on the server's bridge,
-- busybox udhcpc on the client) captured on both ends at once into FILE.
-- Prints the lease, then each DHCP packet the capture decoded.
local topo = require("nslua.topo")
local dhcp = require("nslua.dhcp")

local file = assert(arg[1], "usage: capture_dhcp.lua FILE")
local p = ns.lab().name .. "-"
local star = topo.star{prefix = p, n = 1, subnet = "10.66.0.0/24", hub = p .. "srv", leaf_addr = false}
local client = star.leaves[1]
dhcp.server(star.hub, {iface = "br0", range = {100, 150}})

local cap = ns.capture{links = {star.bridge, client.link}, file = file}
print(cap)
local lease = dhcp.udhcpc(client.ns, "eth0")
print("lease " .. lease.ip)
print("captured " .. cap:stop())
for _, pk in ipairs(cap:packets()) do
	if pk.proto == "dhcp" then
		print(("%.6f %s %s"):format(pk.time, pk.iface, pk.summary))
	end
end

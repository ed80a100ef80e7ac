-- A DHCP lab across three hosts: dnsmasq in a namespace on h1 serving a
-- bridge, one client on each of h2 and h3, their links VXLAN pairs into
-- that bridge; the leases cross the tunnels.
local p = arg[1]
local dhcp = require("nslua.dhcp")
ns.hosts{ h1 = "h1", h2 = "h2", h3 = "h3" }
local srv = ns.add(p .. "s", {host = "h1"})
local br = srv:bridge("br0")
br:addr("10.5.0.1/24")
local clients = {}
for i, h in ipairs({"h2", "h3"}) do
	local c = ns.add(p .. "c" .. i, {host = h})
	local _, port = c:veth("eth0", srv, "p" .. i)
	port:master(br)
	clients[i] = c
end
local server = dhcp.server(srv, {iface = "br0", range = {100, 150}})
for i, c in ipairs(clients) do
	local lease = dhcp.udhcpc(c, "eth0")
	print("lease", c.name, lease.ip, lease.router)
end
print("leases", #server:leases())
clients[1]:exec({"ping", "-c1", "-W2", "10.5.0.1"}, {check = true})

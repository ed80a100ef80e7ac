-- capture_ap.lua FILE: the 802.1X access port of examples/access-port.lua,
-- captured on the switch's port with the filter "ether proto 0x888e" while
-- the client logs in (EAP-MD5), gets a lease and pings: only the EAPOL
-- frames may be in FILE. Prints each packet the capture decoded.
local topo = require("nslua.topo")
local dhcp = require("nslua.dhcp")
local ap = require("nslua.ap")

local file = assert(arg[1], "usage: capture_ap.lua FILE")
local p = ns.lab().name .. "-"
local star = topo.star{prefix = p, n = 1, subnet = "10.67.0.0/24", hub = p .. "sw", leaf_addr = false}
local client = star.leaves[1]
dhcp.server(star.hub, {iface = "br0", range = {100, 150}})
local port = ap.locked_port(star.hub, {port = client.port.name, users = {alice = "secret"}})

local cap = client.port:capture{file = file, filter = "ether proto 0x888e"}
local sup = ap.supplicant(client.ns, {iface = "eth0", method = "MD5", identity = "alice", password = "secret"})
assert(sup:wait(15))
port:wait(client.link:mac())
local lease = dhcp.udhcpc(client.ns, "eth0", {tries = 3})
print("lease " .. lease.ip)
local r = client.ns:exec({"ping", "-c", "2", "-i", "0.2", star.gateway})
assert(r.code == 0, "ping: " .. r.stdout)
print("captured " .. cap:stop())
for _, pk in ipairs(cap:packets()) do
	print(pk.proto .. " " .. pk.summary)
end

-- router.lua: two subnets, two hosts each, joined by a router namespace.
--
-- Every host on the left pings every host on the right through the router
-- (TTL 63: one hop). With the router's ip_forward off the pings fail, and
-- work again once it is back on.
--
--   nslua examples/router.lua

local topo = require("nslua.topo")

local p = ns.lab().name .. "-"
local net = topo.router{prefix = p, subnets = {"10.68.1.0/24", "10.68.2.0/24"}, hosts = 2}
local router = net.router

for _, side in ipairs(net.nets) do
	local names = {}
	for _, h in ipairs(side.hosts) do
		names[#names + 1] = ("%s %s"):format(h.name, h.ip)
	end
	print(("%-14s gateway %s on %s: %s"):format(side.subnet, side.gateway, side.iface.name, table.concat(names, ", ")))
end

local function ping(from, to)
	return from.ns:exec({"ping", "-c", "1", "-W", "1", to.ip})
end

local a1 = net.left.hosts[1]
print(("%s: %s"):format(a1.name, a1.ns:exec({"ip", "route", "get", net.right.hosts[1].ip}, {check = true}).stdout:match("[^\n]+")))

for _, a in ipairs(net.left.hosts) do
	for _, b in ipairs(net.right.hosts) do
		local r = ping(a, b)
		local ttl = r.stdout:match("ttl=(%d+)")
		if r.code ~= 0 then
			error(("%s cannot ping %s (%s):\n%s"):format(a.name, b.name, b.ip, r.stdout))
		end
		if ttl ~= "63" then
			error(("%s -> %s: ttl=%s, want 63 (one router hop)"):format(a.name, b.name, tostring(ttl)))
		end
		print(("%s -> %s (%s): ttl=%s %s"):format(a.name, b.name, b.ip, ttl, r.stdout:match("time=[%d%.]+ ms")))
	end
end

router:sysctl("net.ipv4.ip_forward", 0)
local r = ping(a1, net.right.hosts[1])
if r.code == 0 then
	error("ping went through with ip_forward off")
end
print("ip_forward = 0 on " .. router.name .. ": ping fails")

router:sysctl("net.ipv4.ip_forward", 1)
r = ping(a1, net.right.hosts[1])
if r.code ~= 0 then
	error("ping fails again with ip_forward back on:\n" .. r.stdout)
end
print("ip_forward = 1 on " .. router.name .. ": ping works again")
print("ok: routed between " .. net.left.subnet .. " and " .. net.right.subnet)

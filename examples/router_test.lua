-- router_test.lua: the router lab as tests. Run with `nslua test examples/`
-- (each test gets a fresh lab of its own, torn down after it).
local expect = require("nslua.expect")
local topo = require("nslua.topo")

local function lab()
	return topo.router{prefix = "r", subnets = {"10.68.1.0/24", "10.68.2.0/24"}, hosts = 2}
end

function test_hosts_reach_the_other_side()
	local net = lab()
	for _, a in ipairs(net.left.hosts) do
		for _, b in ipairs(net.right.hosts) do
			expect.ping(a.ns, b.ip)
		end
	end
end

function test_no_forwarding_no_reach()
	local net = lab()
	net.router:sysctl("net.ipv4.ip_forward", 0)
	expect.no_ping(net.left.hosts[1].ns, net.right.hosts[1].ip, {timeout = 1})
	expect.ping(net.left.hosts[1].ns, net.left.gateway) -- its own side still answers
end

function test_hosts_route_via_the_router()
	local net = lab()
	expect.route(net.left.hosts[1].ns, "default", net.left.gateway)
end

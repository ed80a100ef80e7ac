-- overlay.lua: a layer-2 overlay (VXLAN) between two "hosts" over a routed
-- underlay, and a way out (NAT) through the router to an "internet".
--
--   leaf1 -- br0 [host1] vx0 ~~ VNI 100 over 10.90.1.0/24 -- router -- 10.90.2.0/24 ~~ vx0 [host2] br0 -- leaf2
--                                                              |
--                                                           internet (10.90.9.0/24: no route back to the leaves)
--
-- The leaves share 192.168.100.0/24 across the overlay; the router
-- masquerades what they send to the internet (the internet sees the
-- router's address) and forwards its TCP port 8080 to leaf1's port 80.
--
--   nslua examples/overlay.lua

local p = ns.lab().name .. "-"
local router = ns.add(p .. "router", {sysctl = {["net.ipv4.ip_forward"] = 1}})
local internet = ns.add(p .. "internet")
internet:veth("eth0", router, "wan", {addr = "10.90.9.2/24", peer_addr = "10.90.9.1/24"})

local leaves = {}
for i = 1, 2 do
	local host = ns.add(p .. "host" .. i, {sysctl = {["net.ipv4.ip_forward"] = 1}})
	host:veth("eth0", router, "h" .. i, {addr = ("10.90.%d.2/24"):format(i), peer_addr = ("10.90.%d.1/24"):format(i)})
	host:route("default", ("10.90.%d.1"):format(i))
	local br = host:bridge("br0", {})
	br:addr(("192.168.100.%d/24"):format(250 + i)) -- the leaves' gateway (host 1's is used)
	local other = ("10.90.%d.2"):format(3 - i)
	host:vxlan("vx0", {vni = 100, ["local"] = ("10.90.%d.2"):format(i), dev = "eth0", remotes = {other}}):master(br)
	local leaf = ns.add(p .. "leaf" .. i)
	local _, port = leaf:veth("eth0", host, "leaf", {addr = ("192.168.100.%d/24"):format(i)})
	port:master(br)
	leaf:route("default", "192.168.100.251")
	leaves[i] = leaf
end
-- host1 routes the overlay's traffic to the internet; the router knows the
-- overlay's subnet behind host1 and masquerades it on the way out
router:route("192.168.100.0/24", "10.90.1.2")
router:masquerade("wan", {source = "192.168.100.0/24"})
router:forward{proto = "tcp", port = 8080, to = "192.168.100.1:80", iif = "wan"}

local function ping(n, dst)
	local r = n:exec({"ping", "-c", "1", "-W", "5", dst})
	assert(r.code == 0, ("%s: ping %s failed:\n%s%s"):format(n.name, dst, r.stdout, r.stderr))
	print(("%s -> %s: %s"):format(n.name, dst, r.stdout:match("time=[%d.]+ ms") or "ok"))
end
ping(leaves[1], "192.168.100.2") -- across the overlay
ping(leaves[2], "10.90.9.2")     -- out through the router's NAT

for _, l in ipairs(ns.open(p .. "host1"):inspect().links) do
	if l.kind == "vxlan" then
		print(("host1 %s: vni %d, fdb %s"):format(l.name, l.params.vni, table.concat(l.params.fdb or {}, ", ")))
	end
end

-- the port forward: the internet asks the router, leaf1 answers
local www = ns.lab().dir .. "/www"
leaves[1]:exec({"sh", "-c", "mkdir -p " .. www .. " && echo hello from leaf1 > " .. www .. "/index.html"}, {check = true})
leaves[1]:spawn({"busybox", "httpd", "-f", "-p", "80", "-h", www})
local body
for _ = 1, 50 do
	local r = internet:exec({"busybox", "nc", "-w", "3", "10.90.9.1", "8080"}, {stdin = "GET /index.html HTTP/1.0\r\n\r\n"})
	body = r.stdout:match("\r\n\r\n(.*)$")
	if body then break end
	ns.sleep(0.1)
end
assert(body == "hello from leaf1\n", "port forward: got " .. tostring(body))
print("internet -> router:8080 -> leaf1:80: " .. body:gsub("\n$", ""))

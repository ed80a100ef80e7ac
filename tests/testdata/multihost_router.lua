-- The router example across three hosts: every veth crosses hosts, so
-- each becomes a VXLAN pair; the ping goes left -> router -> right.
local p = arg[1]
ns.hosts{ h1 = "h1", h2 = "h2", h3 = "h3" }
local left = ns.add(p .. "l", {host = "h1"})
local router = ns.add(p .. "r", {host = "h2"})
local right = ns.add(p .. "x", {host = "h3"})
local a, b = left:veth("eth0", router, "left0", {addr = "10.1.0.2/24", peer_addr = "10.1.0.1/24"})
right:veth("eth0", router, "right0", {addr = "10.2.0.2/24", peer_addr = "10.2.0.1/24"})
router:sysctl("net.ipv4.ip_forward", 1)
left:route("default", "10.1.0.1")
right:route("default", "10.2.0.1")
left:exec({"ping", "-c1", "-W2", "10.2.0.2"}, {check = true})
print("kind", a.kind, "mtu", a:info().mtu, "peer", tostring(b))
-- a function cannot cross
local ok, err = pcall(function() return left:exec("true", {env = {X = function() end}}) end)
print("function", err)
-- the shorthand, within one host and across two
local x, y = ns.add(p .. "y", {host = "h3"}), ns.add(p .. "z")
local l1, l2 = ns.veth{ {right, "eth1", "10.3.0.1/24"}, {x, "eth0", "10.3.0.2/24"} }
local l3, l4 = ns.veth{ {y, "eth0", "10.4.0.1/24"}, {x, "eth1", "10.4.0.2/24"} }
print("shorthand", l1.kind, l2.kind, l3.kind, l4.kind)
y:exec({"ping", "-c1", "-W2", "10.4.0.2"}, {check = true})
right:exec({"ping", "-c1", "-W2", "10.3.0.2"}, {check = true})
-- a daemon waited for by its log's pattern, on its host
local proc = right:spawn({"sh", "-c", "echo listening; exec sleep 60"}, {ready = "listening"})
print("ready", tostring(proc:alive()))

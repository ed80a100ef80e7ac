-- nslua.topo with names and addresses of the lab's own instead of the
-- defaults, as the labs of tutorials have them.
local topo = require("nslua.topo")

local function ping(from, ip)
  local r = from:exec({"ping", "-n", "-c1", "-W2", ip})
  assert(r.code == 0, from.name .. " cannot ping " .. ip .. ": " .. r.stdout .. r.stderr)
end

local function ifnames(n)
  local out = {}
  for _, l in ipairs(n:links()) do out[#out + 1] = l.name end
  table.sort(out)
  return table.concat(out, " ")
end

function TestStarCustomNames(t)
  local p = t.prefix
  local s = topo.star{prefix = p, names = {p .. "alice", p .. "bob"}, subnet = "10.91.0.0/24",
    hub = p .. "sw", bridge = "lan", hub_addr = "10.91.0.254/24", addrs = {"10.91.0.10", "10.91.0.20/24"},
    leaf_if = "uplink", ports = {"to-alice", "to-bob"}, route = true}
  t:eq(s.leaves[1].name, p .. "alice", "leaf name")
  t:eq(s.leaves[2].ns.name, p .. "bob", "leaf namespace")
  t:eq(s.gateway, "10.91.0.254", "gateway")
  t:eq(s.leaves[1].addr, "10.91.0.10/24", "bare address gets the subnet's length")
  t:eq(ifnames(s.hub), "lan lo to-alice to-bob", "hub's interfaces")
  t:eq(ifnames(s.leaves[2].ns), "lo uplink", "leaf's interfaces")
  t:eq(s.leaves[1].port:info().master, "lan", "port on the bridge")
  ping(s.leaves[1].ns, "10.91.0.20")
  ping(s.leaves[2].ns, "10.91.0.254")
  -- a port prefix, and the default addresses skip a gateway that is not host 1
  local s2 = topo.star{prefix = p .. "x", n = 2, subnet = "10.92.0.0/24", hub_addr = "10.92.0.1/24", port_prefix = "veth"}
  t:eq(ifnames(s2.hub), "br0 lo veth1 veth2", "port prefix")
  t:eq(s2.leaves[1].ip, "10.92.0.2", "first leaf after the gateway")
  local ok, err = pcall(topo.star, {prefix = p .. "y", n = 2, addrs = {"10.0.0.5"}})
  assert(not ok and err:find("addrs[2] must be a string (2 needed)", 1, true), err)
  ok, err = pcall(topo.star, {prefix = p .. "y", n = 1, addrs = {"10.9.0.5"}})
  assert(not ok and err:find("address 10.9.0.5 is not in 10.0.0.0/24", 1, true), err)
  for _, name in ipairs(ns.list()) do assert(not name:find("^" .. p .. "y"), name .. " was made") end
end

function TestChainCustomNames(t)
  local p = t.prefix
  local c = topo.chain{prefix = p, names = {p .. "west", p .. "mid", p .. "east"},
    subnets = {"172.30.1.0/30", "172.30.2.0/29"}, left_if = "wan", right_if = "lan"}
  t:eq(c.first.name, p .. "west", "first")
  t:eq(ifnames(c.nodes[2].ns), "lan lo wan", "inner node's interfaces")
  t:eq(c.links[2].b_ip, "172.30.2.2", "second link's far end")
  ping(c.first, "172.30.2.2")
  ping(c.last, "172.30.1.1")
end

function TestRouterCustomNames(t)
  local p = t.prefix
  local r = topo.router{prefix = p, router = p .. "gw", subnets = {"10.93.1.0/24", "10.93.2.0/24"},
    ifaces = {"inside", "outside"}, gateways = {"10.93.1.254", "10.93.2.1/24"}, host_if = "nic0",
    hosts = 2, names = {{p .. "web", p .. "db"}, {p .. "cl1", p .. "cl2"}}}
  t:eq(r.router.name, p .. "gw", "router name")
  t:eq(r.nets[1].gateway, "10.93.1.254", "gateway")
  t:eq(r.nets[1].hosts[1].ip, "10.93.1.1", "first host takes host 1 when the gateway does not")
  t:eq(r.nets[2].hosts[1].ip, "10.93.2.2", "and host 2 when it does")
  t:eq(r.nets[2].hosts[2].name, p .. "cl2", "host name")
  t:eq(ifnames(r.nets[1].hosts[2].ns), "lo nic0", "host interface")
  assert(ifnames(r.router):find("inside", 1, true) and ifnames(r.router):find("outside", 1, true), ifnames(r.router))
  ping(r.nets[1].hosts[1].ns, "10.93.2.3")
  -- one host per subnet: the router's veth ends take the names
  local r1 = topo.router{prefix = p .. "s", ifaces = {"a-side", "b-side"}, subnets = {"10.94.1.0/24", "10.94.2.0/24"}}
  t:eq(ifnames(r1.router), "a-side b-side lo", "router interfaces")
  ping(r1.left.hosts[1].ns, r1.right.hosts[1].ip)
end

function TestPairsCustomNames(t)
  local ps = topo.pairs{prefix = t.prefix, n = 2, len = 30, a_if = "left0", b_if = "right0"}
  t:eq(ifnames(ps[2].a), "left0 lo", "a side")
  t:eq(ifnames(ps[2].b), "lo right0", "b side")
  ping(ps[2].a, ps[2].b_ip)
end

-- Link kinds whose modules the host's kernel lacks (8021q, vrf, dummy,
-- ip_gre, wireguard): run in the VM's kernel by tests/kernel_links_test.go.

local function has(s, sub)
  return type(s) == "string" and s:find(sub, 1, true) ~= nil
end

local function linkInfo(n, name)
  for _, l in ipairs(n:inspect().links) do
    if l.name == name then return l end
  end
  error("no link " .. name .. " in " .. n.name)
end

local function ping(n, dst, extra)
  local argv = {"ping", "-c", "1", "-W", "5"}
  for _, a in ipairs(extra or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = dst
  return n:exec(argv)
end

-- A trunk between two namespaces carrying VLANs 10 and 20; VLANs 30 and
-- 31 share a subnet but not a tag, so they do not meet.
function TestVLANTrunk(t)
  local p = t.prefix
  local a, b = ns.add(p .. "a"), ns.add(p .. "b")
  local trunk = a:veth("trunk", b, "trunk")
  for _, side in ipairs({{a, 1}, {b, 2}}) do
    local n, i = side[1], side[2]
    n:vlan("v10", "trunk", 10, {addr = "10.76.10." .. i .. "/24"})
    n:vlan("v20", "trunk", 20, {addr = "10.76.20." .. i .. "/24"})
  end
  a:vlan("v30", trunk, 30, {addr = "10.76.30.1/24"})
  b:vlan("v31", "trunk", 31, {addr = "10.76.30.2/24"})
  t:eq(ping(a, "10.76.10.2").code, 0, "VLAN 10")
  t:eq(ping(a, "10.76.20.2").code, 0, "VLAN 20")
  t:eq(ping(a, "10.76.30.2", {"-W", "1"}).code ~= 0, true, "VLANs 30 and 31 are apart")
  local v = linkInfo(b, "v20")
  t:eq(v.kind, "vlan", "kind")
  t:eq(v.params.id, 20, "id")
  t:eq(v.parent, "trunk", "parent")
  local d = a:exec({"ip", "-d", "link", "show", "v10"}).stdout
  assert(has(d, "vlan protocol 802.1Q id 10"), "ip -d link: " .. d)
end

-- A router with two VRFs (tables 10 and 20) serving two clients that use
-- the same subnet; a static route in table 10 reaches only through red.
function TestVRFTwoTables(t)
  local p = t.prefix
  local r = ns.add(p .. "r")
  local red, blue = r:vrf("red", 10), r:vrf("blue", 20)
  for i, vrf in ipairs({red, blue}) do
    local c = ns.add(p .. "c" .. i)
    local _, port = c:veth("eth0", r, "c" .. i, {addr = "10.77.0.2/24"})
    port:master(vrf)
    port:addr("10.77.0.1/24")
    c:route("default", "10.77.0.1")
    t:eq(ping(c, "10.77.0.1").code, 0, "client " .. i .. " reaches its VRF")
  end
  local c1 = ns.open(p .. "c1")
  c1:addr("lo", "10.78.1.1/32")
  r:route{dst = "10.78.1.1", via = "10.77.0.2", dev = "c1", table = 10}
  t:eq(ping(r, "10.78.1.1", {"-I", "red"}).code, 0, "table 10's route, in red")
  t:eq(ping(r, "10.78.1.1", {"-I", "blue", "-W", "1"}).code ~= 0, true, "blue has no such route")
  t:eq(linkInfo(r, "red").params.table, 10, "inspect: red's table")
  t:eq(linkInfo(r, "c2").master, "blue", "inspect: c2 in blue")
  local found
  for _, rt in ipairs(r:inspect().routes) do
    if rt.table == "10" and rt.dst == "10.78.1.1/32" then found = rt end
  end
  assert(found and found.via == "10.77.0.2", "inspect lists the route in table 10")
end

-- A dummy holds a service address that a neighbour reaches.
function TestDummy(t)
  local p = t.prefix
  local a, b = ns.add(p .. "a"), ns.add(p .. "b")
  a:veth("eth0", b, "eth0", {addr = "10.79.1.1/24", peer_addr = "10.79.1.2/24"})
  local d = a:dummy("svc0", {addr = "10.79.0.1/32", mtu = 9000})
  b:route("10.79.0.1", "10.79.1.1")
  t:eq(ping(b, "10.79.0.1").code, 0, "the dummy's address")
  t:eq(d.kind, "dummy", "kind")
  t:eq(d:mtu(), 9000, "mtu")
end

-- gretap (bridgeable, Ethernet) and gre (layer 3) over one underlay.
function TestGRE(t)
  local p = t.prefix
  local a, b = ns.add(p .. "a"), ns.add(p .. "b")
  a:veth("eth0", b, "eth0", {addr = "10.80.0.1/24", peer_addr = "10.80.0.2/24"})
  a:gretap("gt0", {["local"] = "10.80.0.1", remote = "10.80.0.2", key = 7, addr = "10.81.0.1/24"})
  b:gretap("gt0", {["local"] = "10.80.0.2", remote = "10.80.0.1", key = 7, addr = "10.81.0.2/24"})
  t:eq(ping(a, "10.81.0.2").code, 0, "across the gretap")
  a:gre("gre1", {["local"] = "10.80.0.1", remote = "10.80.0.2", addr = "10.82.0.1/30"})
  b:gre("gre1", {["local"] = "10.80.0.2", remote = "10.80.0.1", addr = "10.82.0.2/30"})
  t:eq(ping(b, "10.82.0.1").code, 0, "across the gre tunnel")
  local g = linkInfo(a, "gt0")
  t:eq(g.kind, "gretap", "kind")
  t:eq(g.params.remote, "10.80.0.2", "remote")
  t:eq(g.params.key, 7, "key")
end

-- WireGuard between two namespaces, configured by its generic netlink.
function TestWireguard(t)
  local p = t.prefix
  local a, b = ns.add(p .. "a"), ns.add(p .. "b")
  a:veth("eth0", b, "eth0", {addr = "10.83.0.1/24", peer_addr = "10.83.0.2/24"})
  local ka, kb = ns.wgkey(), ns.wgkey()
  a:wireguard("wg0", {private_key = ka.private, listen_port = 51820, addr = "10.84.0.1/24",
    peers = {{public_key = kb.public, endpoint = "10.83.0.2:51820", allowed_ips = {"10.84.0.2/32"}}}})
  b:wireguard("wg0", {private_key = kb.private, listen_port = 51820, addr = "10.84.0.2/24",
    peers = {{public_key = ka.public, endpoint = "10.83.0.1:51820", allowed_ips = "10.84.0.1/32", keepalive = 5}}})
  t:eq(ping(a, "10.84.0.2").code, 0, "across wireguard")
  local w = linkInfo(b, "wg0")
  t:eq(w.kind, "wireguard", "kind")
  t:eq(w.params.listen_port, 51820, "inspect: listen_port")
  t:eq(w.params.public_key, kb.public, "inspect: public key")
  assert(w.params.peers[1]:find(ka.public .. " endpoint 10.83.0.1:51820 allowed 10.84.0.1/32", 1, true), "inspect: peer " .. tostring(w.params.peers[1]))
end

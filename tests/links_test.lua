-- Links: veth, bridges, addresses, routes and sysctls, written the way a
-- lab script would use them. Traffic only flows between namespaces made
-- here; addresses stay inside them.

local function contains(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end

local function has(s, sub)
  return type(s) == "string" and s:find(sub, 1, true) ~= nil
end

-- A small JSON decoder for iproute2's -j output (objects, arrays, strings,
-- numbers, booleans, null), so that checks read the kernel's view, not ours.
local function json_decode(s)
  local pos = 1
  local value
  local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local function str()
    local out = {}
    pos = pos + 1
    while true do
      local c = s:sub(pos, pos)
      if c == '"' then pos = pos + 1; return table.concat(out) end
      if c == "\\" then
        local e = s:sub(pos + 1, pos + 1)
        local map = {n = "\n", t = "\t", r = "\r", b = "\b", f = "\f"}
        if e == "u" then
          out[#out + 1] = "?"; pos = pos + 6
        else
          out[#out + 1] = map[e] or e; pos = pos + 2
        end
      elseif c == "" then
        error("json: unterminated string")
      else
        out[#out + 1] = c; pos = pos + 1
      end
    end
  end
  function value()
    ws()
    local c = s:sub(pos, pos)
    if c == "{" then
      local t = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "}" then pos = pos + 1; return t end
      while true do
        ws()
        local k = str()
        ws(); assert(s:sub(pos, pos) == ":", "json: expected : at " .. pos); pos = pos + 1
        t[k] = value()
        ws()
        local d = s:sub(pos, pos); pos = pos + 1
        if d == "}" then return t end
        assert(d == ",", "json: expected , or } at " .. pos)
      end
    elseif c == "[" then
      local t = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "]" then pos = pos + 1; return t end
      while true do
        t[#t + 1] = value()
        ws()
        local d = s:sub(pos, pos); pos = pos + 1
        if d == "]" then return t end
        assert(d == ",", "json: expected , or ] at " .. pos)
      end
    elseif c == '"' then
      return str()
    elseif s:sub(pos, pos + 3) == "true" then pos = pos + 4; return true
    elseif s:sub(pos, pos + 4) == "false" then pos = pos + 5; return false
    elseif s:sub(pos, pos + 3) == "null" then pos = pos + 4; return nil
    else
      local num = s:match("^-?[%d.eE+-]+", pos)
      assert(num, "json: unexpected " .. c .. " at " .. pos)
      pos = pos + #num
      return tonumber(num)
    end
  end
  return value()
end

-- json runs an iproute2 command with -j inside n and decodes the output.
local function json(n, argv)
  local r = n:exec(argv, {check = true})
  return json_decode(r.stdout)
end

local function ping(from, addr, v6)
  local argv = {"ping", "-c1", "-W1", addr}
  if v6 then argv = {"ping", "-6", "-c1", "-W1", addr} end
  return from:exec(argv)
end

local function must_ping(t, from, addr, v6)
  local r = ping(from, addr, v6)
  t:eq(r.code, 0, from.name .. " ping " .. addr .. ": " .. r.stdout .. r.stderr)
end

-- raises calls fn and returns its error, failing when it did not raise or
-- when the message lacks one of the wanted pieces.
local function raises(t, what, wants, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, what .. ": did not raise")
  err = tostring(err)
  for _, w in ipairs(wants) do
    assert(has(err, w), what .. ": error lacks " .. string.format("%q", w) .. ": " .. err)
  end
  return err
end

local function link_names(n)
  local names = {}
  for _, k in ipairs(n:links()) do names[#names + 1] = k.name end
  table.sort(names)
  return table.concat(names, ",")
end

-- snapshot describes every namespace and host link named with the test's
-- prefix, and the links inside those namespaces: what a failed call must
-- leave unchanged.
local function snapshot(t)
  local parts = {}
  for _, name in ipairs(ns.list()) do
    if name:sub(1, #t.prefix) == t.prefix then
      parts[#parts + 1] = name .. "[" .. link_names(ns.open(name)) .. "]"
    end
  end
  local r = ns.host():exec({"ip", "-o", "link", "show"}, {check = true})
  for line in r.stdout:gmatch("[^\n]+") do
    local dev = line:match("^%d+: ([^:@]+)")
    if dev and dev:sub(1, #t.prefix) == t.prefix then parts[#parts + 1] = "host:" .. dev end
  end
  return table.concat(parts, " ")
end

-- Acceptance: left - router - right, forwarding on the router decides.
function TestRouter(t)
  local left = ns.add(t.prefix .. "left")
  local router = ns.add(t.prefix .. "router", {sysctl = {["net.ipv4.ip_forward"] = 1}})
  local right = ns.add(t.prefix .. "right")
  ns.veth{ {left, "eth0", "10.1.0.2/24"}, {router, "left0", "10.1.0.1/24"} }
  ns.veth{ {right, "eth0", "10.2.0.2/24"}, {router, "right0", "10.2.0.1/24"} }
  left:route("default", "10.1.0.1")
  right:route{dst = "default", via = "10.2.0.1"}
  t:eq(router:sysctl("net.ipv4.ip_forward"), "1", "ip_forward from ns.add's sysctl option")
  t:eq(router:inspect().sysctl["net.ipv4.ip_forward"], "1", "inspect().sysctl")
  t:eq(left:sysctl("net.ipv4.ip_forward"), "0", "ip_forward of another namespace")
  must_ping(t, left, "10.2.0.2")
  t:eq(router:sysctl("net.ipv4.ip_forward", 0), "0", "sysctl write returns the new value")
  local r = ping(left, "10.2.0.2")
  assert(r.code ~= 0, "ping through the router answered with ip_forward=0: " .. r.stdout)
  router:sysctl("net.ipv4.ip_forward", "1")
  must_ping(t, left, "10.2.0.2")
end

-- Acceptance: a hub bridge with 8 leaves; every leaf pings the first.
function TestBridgeHub(t)
  local hub = ns.add(t.prefix .. "hub")
  local br = hub:bridge("br0")
  t:eq(br.kind, "bridge", "kind")
  t:eq(br:info().state, "up", "a new bridge is up")
  local leaves = {}
  for i = 1, 8 do
    local leaf = ns.add(t.prefix .. "leaf" .. i)
    local port = hub:veth("p" .. i, leaf, "eth0", {peer_addr = "10.3.0." .. i .. "/24"})
    port:master(br)
    t:eq(port:info().master, "br0", "port " .. i .. " master")
    leaves[i] = leaf
  end
  for i = 2, 8 do must_ping(t, leaves[i], "10.3.0.1") end
  must_ping(t, leaves[1], "10.3.0.8")
end

-- Acceptance: IPv6 addresses are usable at once (no DAD wait), routes too.
function TestIPv6(t)
  local a = ns.add(t.prefix .. "a")
  local b = ns.add(t.prefix .. "b")
  local ea, eb = a:veth("eth0", b, "eth0", {addr = "fd00:1::1/64", peer_addr = "fd00:1::2/64"})
  must_ping(t, a, "fd00:1::2", true)
  must_ping(t, b, "fd00:1::1", true)
  for _, n in ipairs({a, b}) do
    local addrs = json(n, {"ip", "-j", "-6", "addr", "show", "dev", "eth0", "scope", "global"})
    local seen = 0
    for _, ai in ipairs(addrs[1].addr_info) do
      if ai["local"] then -- ip 6.1 prints {} for filtered-out addresses
        seen = seen + 1
        if ai.tentative then t:fatal(n.name .. ": " .. ai["local"] .. " is still tentative (DAD)") end
      end
    end
    t:eq(seen, 1, n.name .. ": global IPv6 addresses")
  end
  assert(contains(ea:addrs(), "fd00:1::1/64"), "addrs(): " .. table.concat(ea:addrs(), " "))
  -- a v6 default route to an address behind b
  b:addr("lo", "fd00:2::1/128")
  a:route("default", "fd00:1::2")
  local routes = json(a, {"ip", "-j", "-6", "route", "show", "default"})
  t:eq(#routes, 1, "one v6 default route")
  t:eq(routes[1].gateway, "fd00:1::2", "v6 default gateway")
  must_ping(t, a, "fd00:2::1", true)
  a:route{dst = "fd00:3::/64", via = "fd00:1::2", metric = 50}
  routes = json(a, {"ip", "-j", "-6", "route", "show", "fd00:3::/64"})
  t:eq(routes[1].metric, 50, "v6 metric")
  t:eq(eb:info().peer.ns, a.name, "peer of b's end")
end

-- With dad=true the address goes through duplicate address detection:
-- the call waits for the outcome, and a duplicate raises and is removed.
function TestIPv6DADWhenAsked(t)
  local a = ns.add(t.prefix .. "a")
  local b = ns.add(t.prefix .. "b")
  local ea, eb = a:veth("eth0", b, "eth0")
  ea:addr("fd00:9::1/64")
  t:eq(eb:addr("fd00:9::2/64", {dad = true}), eb, "addr with dad returns the link")
  local addrs = json(b, {"ip", "-j", "-6", "addr", "show", "dev", "eth0"})[1].addr_info
  local found = false
  for _, ai in ipairs(addrs) do
    if ai["local"] == "fd00:9::2" then
      found = true
      t:eq(ai.tentative, nil, "tentative after DAD")
      t:eq(ai.nodad, nil, "nodad flag with dad=true")
    end
  end
  assert(found, "fd00:9::2 not on eth0")
  must_ping(t, a, "fd00:9::2", true)
  raises(t, "duplicate address", {"fd00:9::1/64", "duplicate address detection failed"},
    eb.addr, eb, "fd00:9::1/64", {dad = true})
  assert(not contains(eb:addrs(), "fd00:9::1/64"), "the duplicate address was left on eth0")
  raises(t, "unknown addr option", {"unknown option", "nodad"}, ea.addr, ea, "fd00:9::3/64", {nodad = true})
  raises(t, "dad not a boolean", {"dad", "boolean"}, ea.addr, ea, "fd00:9::3/64", {dad = 1})
end

-- The peer is made in its namespace, not made here and moved: a monitor
-- in the first namespace never hears of the peer's name.
function TestVethPeerIsMadeInPlace(t)
  local a = ns.add(t.prefix .. "a")
  local b = ns.add(t.prefix .. "b")
  local mon = a:spawn({"ip", "-o", "monitor", "link"})
  local mark = a:bridge("mark0")
  local listening = false
  for _ = 1, 200 do
    mark:down():up()
    ns.sleep(0.02)
    if has(mon:output(), "mark0") then listening = true break end
  end
  assert(listening, "ip monitor never reported mark0: " .. mon:output())
  a:veth("near0", b, "inplace0")
  a:bridge("end0")
  for _ = 1, 200 do
    if has(mon:output(), "end0") then break end
    ns.sleep(0.01)
  end
  local out = mon:output()
  assert(has(out, "end0"), "ip monitor never reported end0: " .. out)
  assert(has(out, "near0"), "ip monitor did not see the near end: " .. out)
  assert(not has(out, "inplace0"), "the peer passed through " .. a.name .. ":\n" .. out)
  mon:kill()
end

function TestVethOptions(t)
  local a = ns.add(t.prefix .. "a")
  local b = ns.add(t.prefix .. "b")
  local ea, eb = a:veth("v0", b, "v1", {
    mtu = 1400, mac = "02:00:00:00:aa:01", peer_mac = "02:00:00:00:aa:02",
    addr = {"10.4.0.1/24", "10.4.1.1/24"}, peer_addr = "10.4.0.2/24"})
  t:eq(ea:mtu(), 1400, "mtu")
  t:eq(eb:mtu(), 1400, "peer mtu")
  t:eq(ea:mac(), "02:00:00:00:aa:01", "mac")
  t:eq(eb:mac(), "02:00:00:00:aa:02", "peer mac")
  local lj = json(b, {"ip", "-j", "link", "show", "v1"})[1]
  t:eq(lj.mtu, 1400, "peer mtu as ip sees it")
  t:eq(lj.address, "02:00:00:00:aa:02", "peer mac as ip sees it")
  assert(contains(lj.flags, "UP"), "peer is not up")
  assert(contains(ea:addrs(), "10.4.0.1/24") and contains(ea:addrs(), "10.4.1.1/24"), "addr list")
  t:eq(ea:mtu(1300), 1300, "mtu(n) returns the new mtu")
  t:eq(json(a, {"ip", "-j", "link", "show", "v0"})[1].mtu, 1300, "mtu set")
  t:eq(ea:mac("02:00:00:00:bb:01"), "02:00:00:00:bb:01", "mac(m) returns the new mac")
  t:eq(json(a, {"ip", "-j", "link", "show", "v0"})[1].address, "02:00:00:00:bb:01", "mac set")
  raises(t, "mtu 20", {"mtu", "20"}, ea.mtu, ea, 20)
  raises(t, "bad mac", {"not a MAC"}, ea.mac, ea, "02:00:zz")
  raises(t, "bad mac option", {"not a MAC"}, a.veth, a, "v2", b, "v3", {mac = "nope"})
  raises(t, "mtu option", {"mtu"}, a.veth, a, "v2", b, "v3", {mtu = 10})
  raises(t, "unknown option", {"unknown option", "mut"}, a.veth, a, "v2", b, "v3", {mut = 1400})
  t:eq(link_names(a), "lo,v0", "links of a after the bad calls")
  t:eq(link_names(b), "lo,v1", "links of b after the bad calls")
end

function TestLinkInfoMatchesInspect(t)
  local a = ns.add(t.prefix .. "a")
  local b = ns.add(t.prefix .. "b")
  local ea = a:veth("eth0", b, "eth1", {addr = "10.5.0.1/24", mac = "02:00:00:00:cc:01"})
  local info = ea:info()
  t:eq(info.name, "eth0", "name")
  t:eq(info.index, ea.index, "index")
  t:eq(info.kind, "veth", "kind")
  t:eq(info.state, "up", "state")
  t:eq(info.mtu, 1500, "mtu")
  t:eq(info.mac, "02:00:00:00:cc:01", "mac")
  t:eq(info.master, nil, "master")
  assert(contains(info.addrs, "10.5.0.1/24"), "addrs: " .. table.concat(info.addrs, " "))
  t:eq(info.peer.name, "eth1", "peer name")
  t:eq(info.peer.ns, b.name, "peer ns")
  local found
  for _, li in ipairs(a:inspect().links) do
    if li.name == "eth0" then found = li end
  end
  assert(found, "inspect().links lacks eth0")
  for _, k in ipairs({"name", "index", "kind", "state", "mtu", "mac", "master"}) do
    t:eq(info[k], found[k], "info()." .. k .. " = inspect entry")
  end
  t:eq(table.concat(info.addrs, " "), table.concat(found.addrs, " "), "addrs = inspect entry")
  ea:down()
  t:eq(ea:info().state, "down", "state after down()")
  t:eq(json(a, {"ip", "-j", "link", "show", "eth0"})[1].flags[1] == "UP", false, "ip sees it down")
  t:eq(ea:up(), ea, "up() returns the link")
  t:eq(ea:info().state, "up", "state after up()")
  assert(has(tostring(ea), "eth0") and has(tostring(ea), a.name), "tostring: " .. tostring(ea))
end

function TestLinksAndLink(t)
  local a = ns.add(t.prefix .. "a")
  local b = ns.add(t.prefix .. "b")
  local ea = a:veth("x0", b, "x1")
  local br = a:bridge("br0")
  local byname = {}
  for _, k in ipairs(a:links()) do
    byname[k.name] = k
    assert(k.ns == a, k.name .. ".ns is not a")
    assert(type(k.index) == "number" and k.index > 0, k.name .. ".index")
  end
  assert(byname.lo and byname.x0 and byname.br0, "links(): " .. link_names(a))
  t:eq(byname.x0.kind, "veth", "x0 kind")
  t:eq(byname.br0.kind, "bridge", "br0 kind")
  t:eq(byname.lo.kind, "loopback", "lo kind, as inspect says")
  t:eq(a:link("lo").kind, a:inspect().links[1].kind, "Link.kind and inspect agree on lo")
  assert(byname.x0 == ea, "links() entry is not == the veth")
  assert(a:link("br0") == br, "link(name) is not == the bridge")
  assert(a:link("x0") ~= br, "different links are ==")
  raises(t, "absent link", {"no link", "nope", a.name}, a.link, a, "nope")
  raises(t, "link(nil)", {"(name)", "string", "nil"}, a.link, a, nil)
end

function TestAddrs(t)
  local a = ns.add(t.prefix .. "a")
  local b = ns.add(t.prefix .. "b")
  local ea = a:veth("eth0", b, "eth0")
  t:eq(ea:addr("10.6.0.1/24"):addr("fd00:6::1/64"), ea, "addr chains")
  local k = a:addr("eth0", "10.6.1.1/16")
  assert(k == ea, "n:addr returns the link")
  local addrs = ea:addrs()
  for _, want in ipairs({"10.6.0.1/24", "fd00:6::1/64", "10.6.1.1/16"}) do
    assert(contains(addrs, want), "addrs() lacks " .. want .. ": " .. table.concat(addrs, " "))
  end
  local ipv4 = json(a, {"ip", "-j", "-4", "addr", "show", "dev", "eth0"})[1].addr_info
  t:eq(#ipv4, 2, "ip sees two IPv4 addresses")
  raises(t, "same address twice", {"already", "10.6.0.1/24"}, ea.addr, ea, "10.6.0.1/24")
  raises(t, "addr on absent dev", {"no link", "nope"}, a.addr, a, "nope", "10.6.2.1/24")
  t:eq(#ea:addrs(), #addrs, "address count after the bad calls")
end

function TestBridgeOptionsAndPorts(t)
  local hub = ns.add(t.prefix .. "hub")
  local leaf = ns.add(t.prefix .. "leaf")
  local br = hub:bridge("br0", {stp = true, group_fwd_mask = 8})
  local bi = json(hub, {"ip", "-d", "-j", "link", "show", "br0"})[1].linkinfo.info_data
  t:eq(bi.stp_state, 1, "stp_state")
  t:eq(tonumber(bi.group_fwd_mask), 8, "group_fwd_mask")
  br:stp(false):group_fwd_mask(0)
  bi = json(hub, {"ip", "-d", "-j", "link", "show", "br0"})[1].linkinfo.info_data
  t:eq(bi.stp_state, 0, "stp_state after stp(false)")
  t:eq(tonumber(bi.group_fwd_mask), 0, "group_fwd_mask after group_fwd_mask(0)")
  local plain = hub:bridge("br1")
  t:eq(json(hub, {"ip", "-d", "-j", "link", "show", "br1"})[1].linkinfo.info_data.stp_state, 0, "stp off by default")
  raises(t, "restricted mask", {"group_fwd_mask"}, hub.bridge, hub, "br2", {group_fwd_mask = 1})
  raises(t, "mask out of range", {"group_fwd_mask"}, hub.bridge, hub, "br2", {group_fwd_mask = 0x10000})
  t:eq(link_names(hub), "br0,br1,lo", "links after the bad bridges")

  local port = hub:veth("p0", leaf, "eth0")
  raises(t, "port flags of a free link", {"p0"}, port.port, port, {learning = false})
  t:eq(port:master(br), port, "master returns the link")
  t:eq(port:port{learning = false, locked = true}, port, "port returns the link")
  local pj = json(hub, {"bridge", "-d", "-j", "link", "show", "dev", "p0"})[1]
  t:eq(pj.master, "br0", "bridge link: master")
  t:eq(pj.learning, false, "bridge link: learning")
  t:eq(pj.locked, true, "bridge link: locked")
  port:port{learning = true, locked = false}
  pj = json(hub, {"bridge", "-d", "-j", "link", "show", "dev", "p0"})[1]
  t:eq(pj.learning, true, "learning back on")
  t:eq(pj.locked, false, "locked off")
  -- move the port to the other bridge, then release it
  port:master(plain)
  t:eq(port:info().master, "br1", "master after moving to br1")
  t:eq(port:master(nil), port, "master(nil) returns the link")
  t:eq(port:info().master, nil, "master after master(nil)")
  t:eq(json(hub, {"ip", "-j", "link", "show", "p0"})[1].master, nil, "ip sees no master")
  raises(t, "master()", {"bridge"}, port.master, port)
  raises(t, "master(string)", {"must be a Link"}, port.master, port, "br0")
  local other = leaf:bridge("lbr")
  raises(t, "master in another namespace", {"same namespace"}, port.master, port, other)
end

function TestMoveWithRename(t)
  local a = ns.add(t.prefix .. "a")
  local b = ns.add(t.prefix .. "b")
  local c = ns.add(t.prefix .. "c")
  local x, peer = a:veth("x0", c, "c0", {addr = "10.7.0.1/24", peer_addr = "10.7.0.2/24"})
  t:eq(x:move(b, "y0"), x, "move returns the link")
  t:eq(x.name, "y0", "name after the move")
  assert(x.ns == b, "ns after the move")
  raises(t, "old name", {"no link", "x0"}, a.link, a, "x0")
  local y = b:link("y0")
  t:eq(y.index, x.index, "index after the move")
  assert(y == x, "b:link(y0) == the moved link")
  t:eq(peer:info().peer.ns, b.name, "peer sees the move")
  t:eq(peer:info().peer.name, "y0", "peer sees the rename")
  y:addr("10.7.0.1/24"):up()
  must_ping(t, c, "10.7.0.1")
  -- keep the name
  x:move(a)
  t:eq(x.name, "y0", "name kept")
  assert(a:link("y0") == x, "moved back")
  x:delete()
  raises(t, "deleted link", {"no link", "y0"}, a.link, a, "y0")
  raises(t, "peer after delete", {"no link", "c0"}, c.link, c, "c0")
  t:eq(link_names(a), "lo", "a after delete")
  t:eq(link_names(c), "lo", "c after delete")
end

-- A rename on the way must not depend on names in the source namespace,
-- and a name taken at the destination raises and leaves the link alone.
function TestMoveNameClashes(t)
  local a = ns.add(t.prefix .. "a")
  local b = ns.add(t.prefix .. "b")
  local x = a:veth("x0", a, "y0")
  x:move(b, "y0")
  t:eq(link_names(a), "lo,y0", "a after moving x0 out as y0")
  t:eq(link_names(b), "lo,y0", "b after the move")
  local z = a:veth("z0", b, "z1")
  raises(t, "name taken at the destination", {"y0", b.name, "already exists"}, z.move, z, b, "y0")
  t:eq(z.name, "z0", "name after the failed move")
  assert(z.ns == a, "ns after the failed move")
  t:eq(link_names(a), "lo,y0,z0", "a after the failed move")
  t:eq(link_names(b), "lo,y0,z1", "b after the failed move")
  raises(t, "bad new name", {"15"}, z.move, z, b, string.rep("n", 16))
  t:eq(link_names(a), "lo,y0,z0", "a after a bad new name")
end

-- Links in the host namespace are journaled and removed at teardown (the
-- harness fails the test if one named with the prefix is left).
function TestHostLinksGoAtTeardown(t)
  local host = ns.host()
  local a = ns.add(t.prefix .. "a")
  local h0, a0 = host:veth(t.prefix .. "h0", a, "eth0")
  t:eq(h0.ns, host, "host end's ns")
  t:eq(a0:info().peer.ns, "host", "peer of the namespace end")
  local _, h2 = a:veth("eth1", host, t.prefix .. "h2")
  t:eq(h2.name, t.prefix .. "h2", "host peer name")
  -- both ends in the host: only the journal removes these
  host:veth(t.prefix .. "h3", host, t.prefix .. "h4")
  local r = host:exec({"ip", "-o", "link", "show"}, {check = true})
  for _, n in ipairs({"h0", "h2", "h3", "h4"}) do
    assert(has(r.stdout, t.prefix .. n), "host lacks " .. t.prefix .. n)
  end
  -- a host link moved into the lab and one deleted by the script
  local h5 = host:veth(t.prefix .. "h5", host, t.prefix .. "h6")
  h5:move(a, "moved0")
  assert(a:link("moved0"), "moved link in a")
  -- a host link renamed in place: the journal follows the new name
  local h8 = host:veth(t.prefix .. "h8", host, t.prefix .. "h9")
  t:eq(h8:move(host, t.prefix .. "hA"), h8, "rename in place returns the link")
  t:eq(h8.name, t.prefix .. "hA", "name after the rename")
  assert(host:link(t.prefix .. "hA") == h8, "host:link(new name)")
  raises(t, "rename onto a taken name", {t.prefix .. "h9", "already exists"}, h8.move, h8, host, t.prefix .. "h9")
  t:eq(h0:info().peer.ns, a.name, "peer of the host end")
  local h7 = host:veth(t.prefix .. "h7", a, "eth2")
  h7:delete()
  raises(t, "deleted host link", {"no link"}, host.link, host, t.prefix .. "h7")
end

function TestRoutes(t)
  local a = ns.add(t.prefix .. "a")
  local b = ns.add(t.prefix .. "b")
  a:veth("eth0", b, "eth0", {addr = "10.8.0.1/24", peer_addr = "10.8.0.2/24"})
  a:route{dst = "10.9.0.0/24", via = "10.8.0.2", metric = 100}
  a:route{dst = "10.9.0.0/24", via = "10.8.0.2", metric = 200}
  a:route{dst = "10.10.0.0/24", dev = "eth0"}
  a:route("10.11.0.0/24", nil, "eth0")
  a:route("10.12.0.5", "10.8.0.2", "eth0")
  a:route{dst = "default", via = "10.8.0.2", dev = "eth0", metric = 10}
  local byDst = {}
  for _, r in ipairs(json(a, {"ip", "-j", "route", "show"})) do
    byDst[r.dst .. "/" .. tostring(r.metric or 0)] = r
  end
  local m100 = byDst["10.9.0.0/24/100"]
  assert(m100 and m100.gateway == "10.8.0.2" and m100.dev == "eth0", "metric 100 route")
  assert(byDst["10.9.0.0/24/200"], "metric 200 route")
  local d = byDst["10.10.0.0/24/0"]
  assert(d and d.dev == "eth0" and d.gateway == nil and d.scope == "link", "dev-only route")
  assert(byDst["10.11.0.0/24/0"], "route(dst, nil, dev)")
  assert(byDst["10.12.0.5/0"] and byDst["10.12.0.5/0"].gateway == "10.8.0.2", "host route")
  local def = byDst["default/10"]
  assert(def and def.gateway == "10.8.0.2" and def.dev == "eth0", "default route with metric")
  local seen = false
  for _, r in ipairs(a:inspect().routes) do
    if r.dst == "10.9.0.0/24" and r.via == "10.8.0.2" and r.dev == "eth0" then seen = true end
  end
  assert(seen, "inspect().routes lacks 10.9.0.0/24")
end

function TestRouteErrors(t)
  local a = ns.add(t.prefix .. "a")
  local b = ns.add(t.prefix .. "b")
  a:veth("eth0", b, "eth0", {addr = "10.8.0.1/24"})
  local before = a:exec({"ip", "route", "show"}).stdout
  raises(t, "unreachable gateway", {"10.99.0.1", "gateway", "not on any connected network", a.name},
    a.route, a, "default", "10.99.0.1")
  raises(t, "unreachable v6 gateway", {"fd99::1", "gateway"}, a.route, a, "default", "fd99::1")
  raises(t, "gateway not an IP", {"gateway", "10.8.0"}, a.route, a, "10.9.0.0/24", "10.8.0")
  raises(t, "bad destination", {"destination", "10.9.0.0/33"}, a.route, a, "10.9.0.0/33", "10.8.0.2")
  raises(t, "no via, no dev", {"via", "dev"}, a.route, a, {dst = "10.9.0.0/24"})
  raises(t, "no dst", {"dst"}, a.route, a, {via = "10.8.0.2"})
  raises(t, "absent dev", {"no link", "nope"}, a.route, a, {dst = "10.9.0.0/24", dev = "nope"})
  raises(t, "negative metric", {"metric"}, a.route, a, {dst = "10.9.0.0/24", via = "10.8.0.2", metric = -1})
  raises(t, "unknown option", {"unknown option"}, a.route, a, {dst = "10.9.0.0/24", gw = "10.8.0.2"})
  raises(t, "mixed families", {"10.8.0.2"}, a.route, a, "fd00::/64", "10.8.0.2")
  t:eq(a:exec({"ip", "route", "show"}).stdout, before, "routes after the bad calls")
  a:route("10.9.0.0/24", "10.8.0.2")
  raises(t, "same route twice", {"already exists"}, a.route, a, "10.9.0.0/24", "10.8.0.2")
end

function TestSysctl(t)
  local a = ns.add(t.prefix .. "a", {sysctl = {
    ["net.ipv4.ip_forward"] = 1,
    ["net.ipv6.conf.all.forwarding"] = "1",
    ["net.ipv4.conf.all.rp_filter"] = 2}})
  t:eq(a:sysctl("net.ipv4.ip_forward"), "1", "ip_forward")
  t:eq(a:sysctl("net.ipv6.conf.all.forwarding"), "1", "ipv6 forwarding")
  t:eq(a:sysctl("net.ipv4.conf.all.rp_filter"), "2", "rp_filter")
  local r = a:exec({"cat", "/proc/sys/net/ipv4/ip_forward"}, {check = true})
  t:eq(r.stdout, "1\n", "the namespace's own /proc/sys")
  local b = ns.add(t.prefix .. "b")
  t:eq(b:sysctl("net.ipv4.ip_forward"), "0", "another namespace is untouched")
  t:eq(b:sysctl("net.ipv4.conf.default.forwarding", true), "1", "boolean value")
  t:eq(b:sysctl("net.ipv4.conf.default.forwarding", false), "0", "boolean false")
  b:veth("eth0", a, "eth0")
  t:eq(b:sysctl("net.ipv6.conf.eth0.disable_ipv6", 1), "1", "per-interface key")
  local bad = {
    "net.ipv4/../../kernel/hostname", "net.ipv4..ip_forward", "net.ipv4.ip_forward.",
    "kernel.hostname", "../net/ipv4/ip_forward", "/proc/sys/net/ipv4/ip_forward",
    "net/ipv4/ip_forward", "net.ipv4.conf.a/b.forwarding", "net..", "net.", "",
  }
  for _, key in ipairs(bad) do
    raises(t, "key " .. key, {"sysctl", key}, a.sysctl, a, key)
    raises(t, "write key " .. key, {"sysctl", key}, a.sysctl, a, key, "1")
  end
  raises(t, "absent key", {"no such key", "net.ipv4.nope"}, a.sysctl, a, "net.ipv4.nope")
  raises(t, "bad value", {"net.ipv4.ip_forward"}, a.sysctl, a, "net.ipv4.ip_forward", "x\ny")
  raises(t, "value not a scalar", {"argument #2"}, a.sysctl, a, "net.ipv4.ip_forward", {})
  t:eq(a:sysctl("net.ipv4.ip_forward"), "1", "ip_forward after the bad calls")
end

function TestAddWithBadSysctlLeavesNothing(t)
  local before = snapshot(t)
  local name = t.prefix .. "s"
  raises(t, "escaping key", {"ns.add", "sysctl", "kernel"}, ns.add, name, {sysctl = {["net.ipv4/../../kernel/x"] = 1}})
  raises(t, "non-net key", {"ns.add", "kernel.hostname"}, ns.add, name, {sysctl = {["kernel.hostname"] = "x"}})
  raises(t, "absent key", {"ns.add", "no such key"}, ns.add, name, {sysctl = {["net.ipv4.nope"] = 1}})
  raises(t, "refused value", {"ns.add", "net.ipv4.ip_forward"}, ns.add, name, {sysctl = {["net.ipv4.ip_forward"] = "many"}})
  t:eq(snapshot(t), before, "namespaces and links after the bad adds")
  assert(not contains(ns.list(), name), "namespace left behind")
end

-- Bad input raises with a clear error and leaves nothing half-made.
function TestBadInputLeavesNothing(t)
  local a = ns.add(t.prefix .. "a")
  local b = ns.add(t.prefix .. "b")
  local host = ns.host()
  a:veth("taken", b, "takenb")
  local br = a:bridge("br0")
  local before = snapshot(t)
  local long = string.rep("n", 16)
  local cases = {
    {"long name", {long, "15"}, a.veth, a, long, b, "ok1"},
    {"long peer name", {"peer", long, "15"}, a.veth, a, "ok0", b, long},
    {"slash in name", {"a/b", "/"}, a.veth, a, "a/b", b, "ok1"},
    {"space in name", {"a b"}, a.veth, a, "a b", b, "ok1"},
    {"tab in peer name", {"peer"}, a.veth, a, "ok0", b, "a\tb"},
    {"empty name", {"empty"}, a.veth, a, "", b, "ok1"},
    {"long host name", {"15"}, a.veth, a, "ok0", host, t.prefix .. "long12345"},
    {"bad host name", {"/"}, host.veth, host, t.prefix .. "/x", a, "ok1"},
    {"name taken", {"taken", "already exists", a.name}, a.veth, a, "taken", b, "ok1"},
    {"peer name taken", {"takenb", "already exists", b.name}, a.veth, a, "ok0", b, "takenb"},
    {"bridge name taken", {"br0", "already exists"}, a.bridge, a, "br0"},
    {"bridge name taken by a veth", {"taken", "already exists"}, a.bridge, a, "taken"},
    {"long bridge name", {long}, a.bridge, a, long},
    {"same name both ends", {"same name"}, a.veth, a, "dup", a, "dup"},
    {"bad addr", {"addr", "10.0.0.300/24"}, a.veth, a, "ok0", b, "ok1", {addr = "10.0.0.300/24"}},
    {"no prefix length", {"addr", "10.0.0.1"}, a.veth, a, "ok0", b, "ok1", {addr = "10.0.0.1"}},
    {"bad peer addr", {"peer_addr", "fd00::/129"}, a.veth, a, "ok0", b, "ok1", {peer_addr = "fd00::/129"}},
    {"bad addr in list", {"addr", "nope"}, a.veth, a, "ok0", b, "ok1", {addr = {"10.0.0.1/24", "nope"}}},
    {"shorthand bad cidr", {"10.0.0.1/40"}, ns.veth, { {a, "ok0", "10.0.0.1/40"}, {b, "ok1"} }},
    {"shorthand long name", {long}, ns.veth, { {a, "ok0"}, {b, long} }},
    {"bad cidr on a link", {"10.1.1.1/99"}, br.addr, br, "10.1.1.1/99"},
    {"bad cidr via n:addr", {"x.y"}, a.addr, a, "br0", "x.y/24"},
    {"absent peer namespace", {t.prefix .. "zz"}, a.veth, a, "ok0", t.prefix .. "zz", "ok1"},
    {"link of a long name", {long}, a.link, a, long},
  }
  for _, c in ipairs(cases) do
    raises(t, c[1], c[2], unpack(c, 3))
    t:eq(snapshot(t), before, "after " .. c[1])
  end
end

function TestGoneNamespace(t)
  local a = ns.add(t.prefix .. "a")
  local b = ns.add(t.prefix .. "b")
  local gone = ns.add(t.prefix .. "g")
  local ga = gone:veth("g0", a, "a0")
  local gbr = gone:bridge("gbr")
  local m0 = b:veth("m0", b, "m1")
  gone:delete()
  -- a0, g0's peer, goes when the kernel frees the namespace, a little later
  for _ = 1, 500 do
    if not pcall(a.link, a, "a0") then break end
    ns.sleep(0.01)
  end
  local before = snapshot(t)
  local cases = {
    {"veth from it", gone.veth, gone, "x0", a, "x1"},
    {"veth into it", a.veth, a, "x0", gone, "x1"},
    {"shorthand into it", ns.veth, { {a, "x0"}, {gone, "x1"} }},
    {"bridge in it", gone.bridge, gone, "br0"},
    {"link in it", gone.link, gone, "g0"},
    {"links of it", gone.links, gone},
    {"addr in it", gone.addr, gone, "g0", "10.0.0.1/24"},
    {"route in it", gone.route, gone, "default", "10.0.0.1"},
    {"sysctl read", gone.sysctl, gone, "net.ipv4.ip_forward"},
    {"sysctl write", gone.sysctl, gone, "net.ipv4.ip_forward", 1},
    {"old link up", ga.up, ga},
    {"old link addr", ga.addr, ga, "10.0.0.1/24"},
    {"old link mtu", ga.mtu, ga, 1400},
    {"old link delete", ga.delete, ga},
    {"old bridge as master", m0.master, m0, gbr},
    {"move into it", m0.move, m0, gone},
    {"move out of it", ga.move, ga, b},
  }
  for _, c in ipairs(cases) do
    raises(t, c[1], {}, unpack(c, 2))
    t:eq(snapshot(t), before, "after " .. c[1])
  end
  local err = raises(t, "veth into it (message)", {"deleted", gone.name}, a.veth, a, "x0", gone, "x1")
  t:log(err)
end

-- Link shaping and the timeline, as a lab script uses them. Traffic only
-- flows between namespaces made here. Rate shaping (tbf) works on every
-- kernel of the project; netem keys are tested in TestKernelShape*.

local function pair(t, opts)
  local a, b = ns.add(t.prefix .. "a"), ns.add(t.prefix .. "b")
  opts = opts or {}
  opts.addr, opts.peer_addr = "10.79.0.1/24", "10.79.0.2/24"
  local la, lb = a:veth("eth0", b, "eth0", opts)
  return a, b, la, lb
end

local function qdisc(n, dev)
  return n:exec({"tc", "qdisc", "show", "dev", dev}, {check = true}).stdout
end

-- The table reads back from the kernel as it was written; setting it again
-- changes it in place; false removes it.
function TestShapeReadBack(t)
  local a, b, la, lb = pair(t)
  t:eq(la:shape(), nil, "unshaped")
  la:shape{rate = "10mbit", burst = "32kb", limit = 100}
  local s = la:shape()
  t:eq(s.rate, "10mbit", "rate"); t:eq(s.burst, "32kb", "burst"); t:eq(s.limit, 100, "limit")
  assert(qdisc(a, "eth0"):find("tbf 4e53: root", 1, true), qdisc(a, "eth0"))
  t:eq(lb:shape(), nil, "the peer is not shaped without peer = true")
  la:shape{rate = "1gbit"}
  s = la:shape()
  t:eq(s.rate, "1gbit", "changed"); t:eq(s.burst, nil, "keys left out are off"); t:eq(s.limit, nil, "limit off")
  t:eq(a:link("eth0").index, la.index, "same link")
  la:shape(false)
  t:eq(la:shape(), nil, "removed")
  assert(qdisc(a, "eth0"):find("noqueue", 1, true), "default qdisc back: " .. qdisc(a, "eth0"))
  la:shape(false) -- harmless twice
end

-- peer = true shapes both ends, also across namespaces; peer = {...} its own way.
function TestShapePeer(t)
  local a, b, la, lb = pair(t)
  la:shape{rate = "5mbit", peer = true}
  t:eq(lb:shape().rate, "5mbit", "peer shaped the same")
  la:shape{rate = "5mbit", peer = {rate = "1mbit"}}
  t:eq(la:shape().rate, "5mbit", "this end"); t:eq(lb:shape().rate, "1mbit", "peer's own")
  la:shape{peer = true}
  t:eq(la:shape(), nil, "both removed"); t:eq(lb:shape(), nil, "peer removed")
  local br = a:bridge("br0")
  local ok, err = pcall(br.shape, br, {rate = "1mbit", peer = true})
  assert(not ok and err:find("not a veth"), tostring(err))
  br:shape{rate = "100mbit"} -- a bridge (and its ports) can be shaped
  t:eq(br:shape().rate, "100mbit", "bridge")
end

-- veth options, ns.veth and the topology libraries take the same table.
function TestShapeVethAndTopo(t)
  local a, b, la, lb = pair(t, {shape = {rate = "2mbit", peer = {rate = "3mbit"}}})
  t:eq(la:shape().rate, "2mbit", "veth opts.shape"); t:eq(lb:shape().rate, "3mbit", "veth peer")
  local c = ns.add(t.prefix .. "c")
  local x, y = ns.veth{ {a, "x0", "10.80.0.1/24"}, {c, "y0", "10.80.0.2/24"}, shape = {rate = "4mbit"} }
  t:eq(x:shape().rate, "4mbit", "ns.veth shape"); t:eq(y:shape(), nil, "ns.veth peer")
  local ok, err = pcall(a.veth, a, "z0", c, "z1", {shape = {rate = "4"}})
  assert(not ok and err:find("option shape: rate: '4' has no unit"), tostring(err))
  assert(not pcall(a.link, a, "z0"), "a refused shape left a veth behind")
  local topo = require("nslua.topo")
  local star = topo.star{prefix = t.prefix .. "s", n = 3, shape = {rate = "10mbit", peer = true}}
  for _, leaf in ipairs(star.leaves) do
    t:eq(leaf.port:shape().rate, "10mbit", "star port"); t:eq(leaf.link:shape().rate, "10mbit", "star leaf")
  end
  local chain = topo.chain{prefix = t.prefix .. "k", n = 3, shape = {rate = "7mbit"}}
  for _, l in ipairs(chain.links) do
    t:eq(l.a:shape().rate, "7mbit", "chain link"); t:eq(l.b:shape(), nil, "chain far end")
  end
  chain.first:exec({"ping", "-c1", "-W2", chain.links[2].b_ip}, {check = true})
end

-- inspect shows each link's shaping, in the same form.
function TestShapeInspect(t)
  local a, b, la, lb = pair(t)
  la:shape{rate = "10mbit", limit = 20}
  local info = la:info()
  t:eq(info.shape.rate, "10mbit", "info.shape"); t:eq(info.shape.limit, 20, "info.shape.limit")
  for _, l in ipairs(b:inspect().links) do
    t:eq(l.shape, nil, "unshaped link " .. l.name)
  end
end

-- ns.every flapping a link while ping runs: some answers, some losses.
-- (The sending end is flapped: with only the far end down, the kernel
-- reports congestion and ping waits, rather than losing packets.)
function TestShapeTimelineFlap(t)
  local a, b, la, lb = pair(t)
  a:exec({"ping", "-c1", "-W2", "10.79.0.2"}, {check = true})
  -- ping first (its start needs the link up), the flapping once it runs
  local p = a:spawn({"stdbuf", "-oL", "ping", "-n", "-c", "60", "-i", "0.05", "-W", "1", "10.79.0.2"}, {ready = "^PING"})
  local up, flips = true, 0
  ns.every(0.5, function()
    if up then la:down() else la:up() end
    up, flips = not up, flips + 1
  end)
  local r = p:wait(60)
  local got = tonumber(r.stdout:match("(%d+) received"))
  t:log("flips", flips, "received", got, "of 60")
  assert(flips >= 4, "the timer ran " .. flips .. " times during the ping")
  assert(got and got >= 12 and got <= 48, "a link down half the time answers about half: " .. r.stdout)
end

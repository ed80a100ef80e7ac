-- A star: one hub namespace with a bridge, N leaves each with a veth into
-- it and an address. `nslua examples/star.lua [N] [PREFIX]`; every leaf can
-- reach the hub at 10.200.0.1. Past 1000 leaves a second bridge (a bridge
-- takes 1024 ports) is joined to the first by a veth. The bridges are made
-- down and brought up after the last leaf: a bridge that is up walks all its
-- ports for each new one and floods every new leaf's IPv6 link-local
-- chatter to all of them (README, benchmark notes), which made big stars
-- quadratic.
local n = tonumber(arg[1] or "100")
local prefix = arg[2] or "star"
local t0 = ns.clock()
-- the hub, the leaves; pinging puts an ARP and an NDP entry in two of them
ns.check_limits{namespaces = n + 1, neighbours = 4}

local hub = ns.add(prefix .. "hub")
local bridges = {}
local function bridge_for(i)
  local k = math.floor(i / 1000)
  if not bridges[k] then
    bridges[k] = hub:bridge("br" .. k, {up = false})
    if k == 0 then
      bridges[k]:addr("10.200.0.1/16")
    else
      local up, down = hub:veth("up" .. k, hub, "dn" .. k)
      up:master(bridges[k]); down:master(bridges[0])
    end
  end
  return bridges[k]
end

for i = 0, n - 1 do
  local leaf = ns.add(prefix .. "l" .. i)
  local host = i + 2
  local addr = string.format("10.200.%d.%d/16", math.floor(host / 256), host % 256)
  local _, port = leaf:veth("eth0", hub, "p" .. i, {addr = addr})
  port:master(bridge_for(i))
end
for k = 0, #bridges do bridges[k]:up() end
print(string.format("built %d leaves in %.0f ms", n, (ns.clock() - t0) * 1000))
io.stdout:flush()
-- ping: the last leaf reaches the hub and the first leaf the last one. Up
-- to three tries each: right after a big build the hub is busy with the
-- leaves' IPv6 start-up chatter, and a first ARP may be dropped.
local function ping(from, to)
  for _ = 1, 2 do
    if from:exec({"ping", "-n", "-c1", "-W2", to}).code == 0 then return end
  end
  from:exec({"ping", "-n", "-c1", "-W2", to}, {check = true})
end
if arg[3] == "ping" then
  local last = ns.open(prefix .. "l" .. (n - 1))
  ping(last, "10.200.0.1")
  print("the last leaf reaches the hub")
  local host = n + 1
  ping(ns.open(prefix .. "l0"), string.format("10.200.%d.%d", math.floor(host / 256), host % 256))
  print("the first leaf reaches the last")
end
if arg[3] == "wait" then ns.wait() end

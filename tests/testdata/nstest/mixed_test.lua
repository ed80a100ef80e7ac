-- Tests of `nslua test` itself: passing, failing, erroring and skipped.
local expect = require("nslua.expect")
local topo = require("nslua.topo")
local dhcp = require("nslua.dhcp")

local function pair()
  local a, b = ns.add("a"), ns.add("b")
  a:veth("eth0", b, "eth0", {addr = "10.80.0.1/24", peer_addr = "10.80.0.2/24"})
  return a, b
end

function test_ping_answers()
  local a = pair()
  expect.ping(a, "10.80.0.2")
  expect.no_ping(a, "10.80.0.77", {timeout = 1})
end

function test_wrong_ping_target()
  local a = pair()
  expect.ping(a, "10.80.0.99", {timeout = 1})
end

local function leased()
  local star = topo.star{prefix = "s", n = 1, subnet = "10.81.0.0/24", leaf_addr = false}
  dhcp.server(star.hub, {iface = "br0", range = {100, 110}})
  local leaf = star.leaves[1].ns
  dhcp.udhcpc(leaf, "eth0")
  return leaf
end

function test_lease_in_range()
  expect.lease(leased(), "eth0", "10.81.0.100-10.81.0.110")
end

function test_wrong_lease_range()
  expect.lease(leased(), "eth0", "10.81.0.200-10.81.0.210")
end

function test_erroring()
  local missing
  return missing.field
end

function test_skipped()
  ns.skip("needs a radio this machine lacks")
end

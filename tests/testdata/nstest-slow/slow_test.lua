-- For the runner's own tests: a failing test whose lab can be kept, and a
-- test that waits long enough to be interrupted.
local expect = require("nslua.expect")

local function pair()
  local a, b = ns.add("a"), ns.add("b")
  a:veth("eth0", b, "eth0", {addr = "10.83.0.1/24", peer_addr = "10.83.0.2/24"})
  return a, b
end

function test_a_fails()
  local a = pair()
  expect.ping(a, "10.83.0.99", {timeout = 1})
end

function test_b_passes()
  local a = pair()
  expect.ping(a, "10.83.0.2")
end

function test_c_waits()
  pair()
  print("waiting")
  ns.sleep(60)
end

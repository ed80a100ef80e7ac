-- Eight tests, each a 10-namespace lab with the same names in source:
-- `nslua test -j 4` runs them side by side without a clash.
local expect = require("nslua.expect")
local topo = require("nslua.topo")

for i = 1, 8 do
  ns.test("star" .. i, function()
    local star = topo.star{prefix = "x", n = 9, subnet = "10.82.0.0/24"}
    expect.ping(star.leaves[9].ns, star.gateway)
    expect.eq(#ns.list() >= 10, true, "namespaces up")
  end)
end

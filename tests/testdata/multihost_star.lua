-- A star of n leaves placed by mode: "local" (all on the controller),
-- "1host" (all on h1, driven over its agent), "2hosts" (the hub and half
-- the leaves on h1, the other half on h2: their links cross hosts). Prints
-- the build's time.
local p, mode, n = arg[1], arg[2], tonumber(arg[3])
local topo = require("nslua.topo")
if mode ~= "local" then
	ns.hosts{ h1 = "h1", h2 = "h2" }
end
if mode == "1host" then
	ns.place(function() return "h1" end)
elseif mode == "2hosts" then
	ns.place(function(_, i) return i % 2 == 1 and "h1" or "h2" end)
end
local t0 = ns.clock()
local star = topo.star{prefix = p, n = n, subnet = "10.40.0.0/16"}
print("build", ns.clock() - t0)
io.stdout:flush()
star.leaves[n].ns:exec({"ping", "-c1", "-W2", star.gateway}, {check = true})
print("checked", ns.clock() - t0)
io.stdout:flush()

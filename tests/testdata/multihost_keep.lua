-- Placement over the controller and two hosts, then the lab is kept: the
-- test inspects it and takes it down with `nslua down`.
local p = arg[1]
ns.hosts{ h1 = "h1", h2 = "h2" }
ns.place("spread")
for i = 1, 3 do
	local n = ns.add(p .. "s" .. i)
	print("placed", n.name, n.host)
end
ns.place(function(name, i) return i == 1 and "h2" or nil end)
for i = 1, 2 do
	local n = ns.add(p .. "f" .. i)
	print("placed", n.name, n.host)
end
ns.place(nil)
local here = ns.add(p .. "h")
print("placed", here.name, here.host)
ns.keep()

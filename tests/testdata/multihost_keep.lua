-- Placement over the controller and two hosts, then the lab is kept: the
-- test inspects and draws it and takes it down with `nslua down`.
local p = arg[1]
ns.hosts{ h1 = "h1", h2 = "h2" }
ns.place("spread")
local spread = {}
for i = 1, 3 do
	local n = ns.add(p .. "s" .. i)
	spread[i] = n
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
-- A cross-host link for the picture: the controller's h to h1's s2.
here:veth("x0", spread[2], "x1", {addr = "10.9.0.1/30", peer_addr = "10.9.0.2/30"})
ns.keep()

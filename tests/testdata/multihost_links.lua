-- n veths between two namespaces, both on h1 ("same") or on h1 and h2
-- ("cross": VXLAN pairs). Prints the time per link.
local p, mode, n = arg[1], arg[2], tonumber(arg[3])
ns.hosts{ h1 = "h1", h2 = "h2" }
local a = ns.add(p .. "a", {host = "h1"})
local b = ns.add(p .. "b", {host = mode == "cross" and "h2" or "h1"})
local t0 = ns.clock()
for i = 1, n do
	a:veth("v" .. i, b, "v" .. i, {addr = "10.41." .. i .. ".1/24", peer_addr = "10.41." .. i .. ".2/24"})
end
print("perlink", (ns.clock() - t0) / n)
a:exec({"ping", "-c1", "-W2", "10.41." .. n .. ".2"}, {check = true})

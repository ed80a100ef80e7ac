-- Builds on two hosts and the controller. With "wait", it says "built"
-- half-way and goes on building, then waits: the test kills the controller
-- (kill -9) meanwhile. Else it says "built" at the end and reads a line:
-- the test kills one host's ssh connection, then writes it.
local p, mode = arg[1], arg[2]
ns.hosts{ h1 = "h1", h2 = "h2" }
local here = ns.add(p .. "c")
local a, b = ns.add(p .. "a", {host = "h1"}), ns.add(p .. "b", {host = "h2"})
here:veth("eth0", a, "eth0", {addr = "10.6.0.1/24", peer_addr = "10.6.0.2/24"})
a:veth("eth1", b, "eth0", {addr = "10.7.0.1/24", peer_addr = "10.7.0.2/24"})
b:spawn({"sleep", "600"})
a:etc("hosts", "10.6.0.1 controller\n")
if mode == "wait" then
	print("built")
	io.stdout:flush()
end
for i = 1, 40 do
	local n = ns.add(p .. "n" .. i, {host = (i % 2 == 0) and "h1" or "h2"})
	n:addr("lo", "10.8.0." .. i .. "/32")
end
if mode == "wait" then
	ns.sleep(600)
end
print("built")
io.stdout:flush()
io.read("*l") -- the test has killed h2's connection
local ok, err = pcall(function() return b:exec("true") end)
print("h2 call", ok, err)
print("h1 still", a:exec("echo up").stdout)

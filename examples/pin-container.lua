-- pin-container.lua: take over a namespace that nslua did not create.
--
-- A process started with `unshare -n sleep` stands in for a container: it has
-- a network namespace of its own, with no name in /run/netns. ns.pin gives
-- that namespace a name (as `ip netns attach` does); then a veth from a lab
-- namespace goes into it and the "container" answers pings. Teardown removes
-- the pin and the veth, and stops the process.
--
--   nslua examples/pin-container.lua

local p = ns.lab().name .. "-"

local ctr = ns.host():spawn({"unshare", "-n", "sleep", "300"})

-- unshare switches namespaces right after it starts: wait until the process's
-- namespace is no longer the host's.
local host_ino = tostring(ns.host().inode)
local ino
for _ = 1, 100 do
	local r = ns.host():exec({"stat", "-L", "-c", "%i", "/proc/" .. ctr.pid .. "/ns/net"})
	ino = r.stdout:match("%d+")
	if ino and ino ~= host_ino then
		break
	end
	ns.sleep(0.02)
end
if not ino or ino == host_ino then
	error("the stand-in container (pid " .. ctr.pid .. ") never left the host's network namespace")
end
print(("container: pid %d, network namespace inode %s (the host's is %s)"):format(ctr.pid, ino, host_ino))

local c = ns.pin(p .. "ctr", ctr.pid)
print("pinned as " .. tostring(c) .. " at " .. c.path)
if tostring(c.inode) ~= ino then
	error(("pinned inode %s, want the container's %s"):format(tostring(c.inode), ino))
end
local pids = c:pids()
local seen = false
for _, pid in ipairs(pids) do
	seen = seen or pid == ctr.pid
end
if not seen then
	error(("%s:pids() = {%s} does not hold the container's pid %d"):format(c.name, table.concat(pids, ","), ctr.pid))
end

local peer = ns.add(p .. "peer")
peer:veth("eth0", c, "eth0", {addr = "10.69.0.1/24", peer_addr = "10.69.0.2/24"})
c:link("lo"):up()
print("inside the container: " .. c:exec({"ip", "-br", "addr"}, {check = true}).stdout:gsub("\n", " | "))

local r = peer:exec({"ping", "-c", "1", "-W", "2", "10.69.0.2"})
if r.code ~= 0 then
	error("the container does not answer pings:\n" .. r.stdout)
end
print("peer pings the container: " .. r.stdout:match("time=[%d%.]+ ms"))
print("ok: container namespace pinned, wired and reachable")

-- A 50-namespace build for tests/lifecycle_test.go to kill -9 at random
-- moments: each namespace gets an /etc/netns file, a veth to a hub bridge,
-- every fifth a daemon, every tenth a host-side veth. Then it waits.
--
-- nslua lifecycle_build.lua PREFIX

local p = assert(arg[1], "usage: lifecycle_build.lua PREFIX")

local hub = ns.add(p .. "hub")
local br = hub:bridge("br0")
local host = ns.host()
for i = 1, 50 do
  local n = ns.add(p .. i, {etc = {hosts = "127.0.0.1 localhost " .. p .. i .. "\n"}})
  local port = hub:veth("v" .. i, n, "eth0", {peer_addr = "10.233." .. i .. ".1/16"})
  port:master(br)
  if i % 5 == 0 then
    n:spawn({"sleep", "1000"}, {env = {LCTEST = p}})
  end
  if i % 10 == 0 then
    host:veth(p .. "h" .. i, n, "up0")
  end
end
print("built")
io.stdout:flush()
ns.wait()

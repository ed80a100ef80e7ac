-- Uses what tests/lifecycle_test.go made beforehand, next to what the lab
-- makes itself; teardown must remove only the latter.
--
-- nslua lifecycle_foreign.lua PREFIX MODE   (MODE: end | wait)
--
-- Made by the test: namespace PREFIXx (ip netns add) with a process of its
-- own inside, /etc/netns/PREFIXx/{hosts,resolv.conf}, /etc/netns/PREFIXm/keep.conf,
-- and the host veth pair PREFIXfa/PREFIXfb.

local p, mode = arg[1], arg[2]
assert(p and mode, "usage: lifecycle_foreign.lua PREFIX MODE")
local env = {LCTEST = p}

local x = ns.open(p .. "x")
x:etc("resolv.conf", "nameserver 10.234.0.53\n") -- overwritten: restored at teardown
x:etc("lab.conf", "made by the lab\n") -- new: removed
local d = x:spawn({"sleep", "1011"}, {env = env}) -- ours in a foreign namespace: stopped
local pin = ns.pin(p .. "pin", "/run/netns/" .. p .. "x") -- the pin goes, x stays
assert(pin.inode == x.inode, "the pin is another namespace")

local m = ns.add(p .. "m") -- its /etc/netns directory exists already: only our file goes
m:veth("eth0", x, "vx") -- vx lives in x, which the lab did not make: removed by name
local br = ns.host():bridge(p .. "br")
ns.host():link(p .. "fa"):master(br) -- a host link we did not make: it stays

print("pid " .. d.pid)
print("ready")
io.stdout:flush()
if mode == "wait" then
  ns.wait()
end

-- The lab of tests/lifecycle_test.go: five namespaces, a host-side veth, a
-- bridge in the host and one in a namespace, /etc/netns files (some nested),
-- three daemons and a stray background process, then it ends the way the
-- test asks.
--
-- nslua lifecycle_lab.lua PREFIX MODE [DEFER_FILE]
--   MODE: end | error | exec (a long exec, for signals) | wait (ns.wait) | keep
-- With a DEFER_FILE, ns.defer writes into it how many of the lab's
-- namespaces were still pinned when it ran (teardown runs it first).
-- It prints the pids of the processes it started as "pid N", the inodes of
-- its namespaces as "ino N", then "ready".

local p, mode, deferFile = arg[1], arg[2], arg[3]
assert(p and mode, "usage: lifecycle_lab.lua PREFIX MODE [DEFER_FILE]")

local nss = {}
for i = 1, 5 do
  nss[i] = ns.add(p .. "n" .. i, {etc = {hosts = "127.0.0.1 localhost " .. p .. i .. "\n"}})
end
nss[1]:etc("lc/deep/file.conf", "nested\n")

-- the host side: a bridge, and a veth whose host end is a port of it
local host = ns.host()
local br = host:bridge(p .. "hbr")
local hv = host:veth(p .. "h1", nss[1], "eth0", {addr = "10.231.0.1/24", peer_addr = "10.231.0.2/24"})
hv:master(br)

-- inside: n2 bridges n3..n5
local nbr = nss[2]:bridge("br0")
for i = 3, 5 do
  local a = nss[2]:veth("p" .. i, nss[i], "eth0", {peer_addr = "10.232.0." .. i .. "/24"})
  a:master(nbr)
end

-- three daemons; the third's child is a grandchild of nslua. LCTEST marks
-- them all (children inherit it) so that the test can find stragglers.
local env = {LCTEST = p}
local d1 = nss[1]:spawn({"sleep", "1001"}, {env = env})
local d2 = nss[2]:spawn("exec sleep 1002", {env = env})
local d3 = nss[3]:spawn("sleep 1003 & echo child $!; wait", {env = env, ready = "^child %d+"})
local child = tonumber(d3:output():match("child (%d+)"))
-- and one that no journal lists: a background job left by an exec
local stray = tonumber(nss[4]:exec("sleep 1004 >/dev/null 2>&1 & echo $!", {env = env, check = true}).stdout)

for _, pid in ipairs({d1.pid, d2.pid, d3.pid, child, stray}) do
  print("pid " .. pid)
end
for _, n in ipairs(nss) do
  print("ino " .. n.inode)
end

if deferFile then
  ns.defer(function()
    local pinned = 0
    for _, name in ipairs(ns.list()) do
      if name:sub(1, #p + 1) == p .. "n" then pinned = pinned + 1 end
    end
    local f = assert(io.open(deferFile, "w"))
    f:write("deferred, " .. pinned .. " pinned\n")
    f:close()
  end)
end

print("ready")
io.stdout:flush()

if mode == "error" then
  error("boom on purpose") -- the test looks for this line number
elseif mode == "exec" then
  nss[1]:exec{"sleep", "1000"}
elseif mode == "wait" then
  ns.wait()
  print("waited")
elseif mode == "keep" then
  ns.keep()
elseif mode ~= "end" then
  error("unknown mode " .. mode)
end

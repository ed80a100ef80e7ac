-- Namespaces: add, open, pin, list, delete, and interop with iproute2.

local function sh(cmd)
  local r = ns.host():exec(cmd)
  return r.code, r.stdout, r.stderr
end

local function contains(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end

function TestAddIsSeenByIproute2(t)
  local name = t.prefix .. "a"
  local n = ns.add(name)
  t:eq(n.name, name, "name")
  t:eq(n.path, "/run/netns/" .. name, "path")
  local code, out = sh("ip netns list")
  assert(out:find(name, 1, true), "ip netns list does not show " .. name .. ":\n" .. out)
  code, out = sh("ip netns exec " .. name .. " ip -o link show lo")
  t:eq(code, 0, "ip netns exec")
  assert(out:find("UP", 1, true), "lo is not up: " .. out)
  code, out = sh("stat -L -c %i /run/netns/" .. name)
  t:eq(tonumber(out), n.inode, "inode as stat -L -c %i")
  assert(contains(ns.list(), name), "ns.list() lacks " .. name)
end

function TestIpNetnsDelRemovesOurs(t)
  local name = t.prefix .. "d"
  ns.add(name)
  t:eq((sh("ip netns del " .. name)), 0, "ip netns del")
  assert(not contains(ns.list(), name), "still listed after ip netns del")
end

function TestOpenWhatIpMade(t)
  local name = t.prefix .. "o"
  sh("ip netns add " .. name)
  local n = ns.open(name)
  local again = ns.open(name)
  assert(n == again, "two handles on one namespace are not ==")
  local _, out = sh("stat -L -c %i /run/netns/" .. name)
  t:eq(n.inode, tonumber(out), "inode")
  t:eq(n:exec{"ip", "-o", "link"}.code, 0, "exec in an ip-made namespace")
  ns.defer(function() sh("ip netns del " .. name) end)
end

function TestPinProcess(t)
  local name = t.prefix .. "p"
  local sleeper = ns.host():spawn{"unshare", "-n", "sleep", "100"}
  local path = "/proc/" .. sleeper.pid .. "/ns/net"
  -- unshare execs sleep in its new namespace; wait for the switch
  for _ = 1, 100 do
    local _, a = sh("stat -L -c %i " .. path)
    local _, b = sh("stat -L -c %i /proc/self/ns/net")
    if a ~= b then break end
    ns.sleep(0.01)
  end
  local n = ns.pin(name, sleeper.pid)
  local _, out = sh("stat -L -c %i " .. path)
  t:eq(n.inode, tonumber(out), "pinned inode = /proc/PID/ns/net inode")
  local code, list = sh("ip netns list")
  assert(list:find(name, 1, true), "ip netns list lacks the pin")
  local pids = n:pids()
  assert(contains(pids, sleeper.pid), "n:pids() lacks the sleeper")
end

function TestAddTwiceRaisesUnlessExistOK(t)
  local name = t.prefix .. "x"
  local n = ns.add(name)
  local ok, err = pcall(ns.add, name)
  assert(not ok, "second add succeeded")
  assert(err:find("already exists", 1, true), "unclear error: " .. err)
  local same = ns.add(name, {exist_ok = true})
  assert(same == n, "exist_ok returned another namespace")
end

function TestBadNamesRaiseAndCreateNothing(t)
  local before = #ns.list()
  for _, bad in ipairs({"", "a/b", ".", "..", string.rep("n", 256)}) do
    local ok, err = pcall(ns.add, bad)
    assert(not ok, "ns.add accepted " .. bad)
    assert(err:find("ns.add", 1, true), "error does not name ns.add: " .. err)
  end
  t:eq(#ns.list(), before, "namespaces after bad adds")
end

function TestPinRefusesWhatIsNotANetns(t)
  local cases = {
    {t.prefix .. "f", "/etc/hostname", "not a namespace file"},
    {t.prefix .. "m", "/proc/self/ns/mnt", "mount namespace"},
    {t.prefix .. "z", 0, "not a process"},
    {t.prefix .. "g", 999999999, "no process"},
  }
  for _, c in ipairs(cases) do
    local ok, err = pcall(ns.pin, c[1], c[2])
    assert(not ok, "ns.pin accepted " .. tostring(c[2]))
    assert(err:find(c[3], 1, true), "unclear error for " .. tostring(c[2]) .. ": " .. err)
    assert(not contains(ns.list(), c[1]), "a pin was left for " .. tostring(c[2]))
  end
end

function TestDeleteUnpinsAndRemovesEtc(t)
  local name = t.prefix .. "e"
  local n = ns.add(name, {etc = {hosts = "10.0.0.1 x\n"}})
  local code = sh("test -f /etc/netns/" .. name .. "/hosts")
  t:eq(code, 0, "etc file written")
  n:delete()
  assert(not contains(ns.list(), name), "still pinned after delete")
  t:eq((sh("test -e /etc/netns/" .. name)), 1, "/etc/netns entry after delete")
  local ok, err = pcall(n.exec, n, {"true"})
  assert(not ok and err:find("deleted", 1, true), "exec on a deleted namespace: " .. tostring(err))
end

function TestToStringAndFields(t)
  local n = ns.add(t.prefix .. "s")
  assert(tostring(n):find(t.prefix .. "s", 1, true), tostring(n))
  assert(tostring(ns.host()):find("host", 1, true), tostring(ns.host()))
  assert(type(n.inode) == "number" and n.inode > 0)
end

-- Private /run, /tmp and /var/lib per namespace: real daemons with their
-- default paths, two of each, and the host's files unchanged.

local function host(cmd)
  return ns.host():exec({"sh", "-c", cmd}).stdout
end

-- What the host has where these daemons write by default: listings (names,
-- sizes, times) and hashes of /var/lib/misc, /var/lib/dhcp and /run/hostapd.
-- The host's PID files in /run are checked apart (ours_in_host_run): other
-- tests on the machine may run a dnsmasq of the host's there.
local function host_state()
  return host([[
    for d in /var/lib/misc /var/lib/dhcp /run/hostapd; do
      echo "== $d"; ls -la --time-style=full-iso "$d" 2>&1 | grep -v '^total '
    done
    for f in /var/lib/misc/dnsmasq.leases /var/lib/dhcp/dhclient.leases; do
      [ -e "$f" ] && sha256sum "$f" || echo "absent $f"
    done
  ]])
end

-- ours_in_host_run fails if a host PID file in /run names one of pids.
local function ours_in_host_run(t, pids)
  for _, f in ipairs({"/run/dnsmasq.pid", "/run/dhclient.pid", "/var/run/dnsmasq.pid"}) do
    local h = io.open(f)
    local pid = h and tonumber(h:read("*l") or "")
    if h then h:close() end
    for _, p in ipairs(pids) do
      assert(pid ~= p, "the host's " .. f .. " holds the PID of a daemon in a namespace: " .. p)
    end
  end
end

-- server s (10.78.X.1/24) with a veth to client c.
local function pair(t, x)
  local s = ns.add(t.prefix .. "s" .. x)
  local c = ns.add(t.prefix .. "c" .. x)
  s:veth("srv0", c, "cli0", {addr = "10.78." .. x .. ".1/24"})
  return s, c
end

local function dnsmasq(s, x)
  -- Defaults for the lease file and the PID file; -C /dev/null: no host config.
  return s:spawn({"dnsmasq", "--keep-in-foreground", "-C", "/dev/null", "--interface=srv0", "--bind-interfaces",
    "--except-interface=lo", "--port=0", "--no-ping", "--log-facility=-",
    "--dhcp-range=10.78." .. x .. ".10,10.78." .. x .. ".20,255.255.255.0,1h"}, {ready = "DHCP, IP range"})
end

function TestDaemonsDefaultPathsArePerNamespace(t)
  local before = host_state()
  local s1, c1 = pair(t, 1)
  local s2, c2 = pair(t, 2)
  local pids = {dnsmasq(s1, 1).pid, dnsmasq(s2, 2).pid}
  for x, c in ipairs({c1, c2}) do
    local r = c:exec({"dhclient", "-1", "-4", "-v", "cli0"}, {timeout = 30})
    t:eq(r.code, 0, "dhclient " .. x .. " (" .. r.stderr .. ")")
    assert(r.stderr:find("bound to 10.78." .. x .. ".", 1, true), "dhclient " .. x .. " got no lease: " .. r.stderr)
  end
  for x, p in ipairs({{s1, c1}, {s2, c2}}) do
    local other = "10.78." .. (3 - x) .. "."
    local leases = p[1]:file("/var/lib/misc/dnsmasq.leases")
    assert(leases and leases:find("10.78." .. x .. ".", 1, true), "server " .. x .. " leases: " .. tostring(leases))
    assert(not leases:find(other, 1, true), "server " .. x .. " holds the other's lease: " .. leases)
    local cl = p[2]:file("/var/lib/dhcp/dhclient.leases")
    assert(cl and cl:find("fixed-address 10.78." .. x .. ".", 1, true), "client " .. x .. " leases: " .. tostring(cl))
    assert(not cl:find(other, 1, true), "client " .. x .. " holds the other's lease: " .. cl)
    local pid = p[2]:file("/run/dhclient.pid")
    assert(pid and pid:match("^%d+"), "client " .. x .. " has no private /run/dhclient.pid")
    t:eq(p[2]:file("/var/run/dhclient.pid"), pid, "/var/run is /run")
    pids[#pids + 1] = tonumber(pid:match("^%d+"))
    t:eq(tonumber((p[1]:file("/run/dnsmasq.pid") or ""):match("^%d+") or ""), pids[x], "server " .. x .. "'s private /run/dnsmasq.pid")
  end
  -- dhclient -x finds its own daemon through its own PID file.
  for _, c in ipairs({c1, c2}) do
    t:eq(c:exec({"dhclient", "-x", "cli0"}, {timeout = 10}).code, 0, "dhclient -x")
  end
  t:eq(host_state(), before, "the host's /var/lib/misc, /var/lib/dhcp and /run/hostapd")
  ours_in_host_run(t, pids)
end

local function hostapd(n, dir)
  local users = dir .. "/" .. n.name .. ".eap_user"
  local f = assert(io.open(users, "w")); f:write('"alice" MD5 "secret"\n'); f:close()
  local conf = dir .. "/" .. n.name .. ".conf"
  f = assert(io.open(conf, "w"))
  f:write(table.concat({"interface=eth0", "driver=wired", "ctrl_interface=/var/run/hostapd",
    "logger_stdout=-1", "logger_stdout_level=2", "ieee8021x=1", "eapol_version=2", "eap_server=1",
    "use_pae_group_addr=1", "eap_user_file=" .. users, ""}, "\n"))
  f:close()
  return n:spawn({"hostapd", conf}, {ready = "AP%-ENABLED", ready_timeout = 10})
end

function TestHostapdDefaultCtrlInterfaceTwice(t)
  local before = host_state()
  local a, b, peer = ns.add(t.prefix .. "a"), ns.add(t.prefix .. "b"), ns.add(t.prefix .. "p")
  a:veth("eth0", peer, "pa")
  b:veth("eth0", peer, "pb")
  local dir = ns.lab().dir
  local pa, pb = hostapd(a, dir), hostapd(b, dir)
  assert(pa:alive() and pb:alive(), "hostapd died: " .. pa:output() .. pb:output())
  for _, n in ipairs({a, b}) do
    local r = n:exec({"hostapd_cli", "-i", "eth0", "status"}, {timeout = 10})
    t:eq(r.code, 0, n.name .. ": hostapd_cli status (" .. r.stdout .. r.stderr .. ")")
    assert(r.stdout:find("state=ENABLED", 1, true), n.name .. ": " .. r.stdout)
    assert(n:exec({"test", "-S", "/run/hostapd/eth0"}).code == 0, n.name .. ": no private control socket")
  end
  pa:kill(); pb:kill()
  pa:wait(5); pb:wait(5)
  t:eq(host_state(), before, "the host's /run (no /run/hostapd)")
end

function TestTmpIsPerNamespaceAcrossExecs(t)
  local a, b = ns.add(t.prefix .. "a"), ns.add(t.prefix .. "b")
  local mark = "tmp-" .. t.prefix
  t:eq(a:exec("echo " .. mark .. " > /tmp/" .. mark).code, 0, "write /tmp")
  t:eq(a:exec({"cat", "/tmp/" .. mark}).stdout, mark .. "\n", "the next exec sees it")
  t:eq(b:exec({"test", "-e", "/tmp/" .. mark}).code, 1, "another namespace does not")
  t:eq(ns.host():exec({"test", "-e", "/tmp/" .. mark}).code, 1, "the host does not")
  t:eq(a:file("/tmp/" .. mark), mark .. "\n", "n:file reads it")
  t:eq(b:file("/tmp/" .. mark), nil, "not in b")
  t:eq(a:exec({"stat", "-c", "%a", "/tmp", "/run/lock"}).stdout, "1777\n1777\n", "modes of /tmp and /run/lock")
  -- /run/netns and the lab's directory are the host's, inside.
  t:eq(a:exec({"test", "-e", "/run/netns/" .. b.name}).code, 0, "/run/netns inside")
  t:eq(a:exec({"ip", "netns", "exec", b.name, "true"}).code, 0, "ip netns exec inside")
  a:exec("echo x > " .. ns.lab().dir .. "/from-inside")
  t:eq(host("cat " .. ns.lab().dir .. "/from-inside"), "x\n", "/run/nslua/LAB is shared")
  -- /var/lib: the host's files, copy-on-write.
  local mark2 = "/var/lib/misc/" .. mark
  a:exec("echo inside > " .. mark2)
  t:eq(a:file(mark2), "inside\n", "written /var/lib file")
  t:eq(ns.host():exec({"test", "-e", mark2}).code, 1, "the host's /var/lib is unchanged")
  t:eq(a:exec({"test", "-f", "/var/lib/dpkg/status"}).code, 0, "the host's /var/lib files show inside")
  t:eq(a:file("/var/lib/dpkg/status") ~= nil, true, "n:file of a host file under /var/lib")
end

function TestShareAndPrivateFalse(t)
  local shared = "/run/nslua-share-" .. t.prefix
  ns.host():exec({"mkdir", shared}, {check = true})
  ns.defer(function() ns.host():exec({"rm", "-rf", shared}) end)
  local a = ns.add(t.prefix .. "a", {share = {shared}})
  t:eq(a:exec("echo hi > " .. shared .. "/f; echo p > /run/p").code, 0, "write")
  t:eq(host("cat " .. shared .. "/f"), "hi\n", "the shared path is the host's")
  t:eq(a:file(shared .. "/f"), "hi\n", "n:file of a shared path")
  t:eq(ns.host():exec({"test", "-e", "/run/p"}).code, 1, "the rest of /run stays private")
  local b = ns.add(t.prefix .. "b", {private = false})
  local mark = "/tmp/nslua-nopriv-" .. t.prefix
  ns.defer(function() os.remove(mark) end)
  t:eq(b:exec("echo out > " .. mark).code, 0, "write /tmp with private = false")
  t:eq(host("cat " .. mark), "out\n", "private = false: the host's /tmp")
  t:eq(b:file(mark), "out\n", "n:file without private state")
  local other = t.prefix .. "o"
  ns.host():exec({"ip", "netns", "add", other}, {check = true})
  ns.defer(function() ns.host():exec({"ip", "netns", "del", other}) end)
  t:eq(ns.open(other):exec({"cat", mark}).stdout, "out\n", "ns.open: the host's view")
end

function TestDeleteRemovesPrivateState(t)
  local name = t.prefix .. "d"
  local a = ns.add(name)
  a:exec("echo old > /tmp/f")
  local dir = ns.lab().dir .. "/ns/" .. name
  t:eq(a:inspect().private.dir, dir, "inspect().private.dir")
  a:delete()
  t:eq(ns.host():exec({"test", "-e", dir}).code, 1, "n:delete removes " .. dir)
  t:eq(ns.host():exec({"grep", "-q", dir, "/proc/self/mountinfo"}).code, 1, "n:delete unmounts " .. dir)
  local b = ns.add(name)
  t:eq(b:exec({"test", "-e", "/tmp/f"}).code, 1, "a new namespace of the same name starts empty")
end

-- exec and spawn inside a namespace, with the /etc/netns binding that
-- protects the host. Real daemons from Debian's packages.

local function write(path, content, mode)
  local f = assert(io.open(path, "w"))
  f:write(content)
  f:close()
  if mode then ns.host():exec({"chmod", mode, path}, {check = true}) end
end

local function host_file(path)
  local r = ns.host():exec({"stat", "-c", "%i", path})
  local f = io.open(path)
  local data = f and f:read("*a")
  if f then f:close() end
  return data, r.stdout
end

local UDHCPC_SCRIPT = [[#!/bin/sh
case "$1" in
  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    echo "LEASE $ip"
    ;;
esac
]]

-- A namespace with a veth to a client namespace, and a dnsmasq configured
-- only through /etc/netns/SERVER/dnsmasq.conf.
local function dhcp_pair(t)
  local dir = ns.lab().dir
  local server = ns.add(t.prefix .. "a", {etc = {["dnsmasq.conf"] = table.concat({
    "interface=srv0", "bind-interfaces", "except-interface=lo", "no-resolv", "no-hosts",
    "dhcp-range=10.77.0.10,10.77.0.20,255.255.255.0,1h", "dhcp-authoritative", "no-ping",
    "dhcp-leasefile=" .. dir .. "/leases", "pid-file=", "log-facility=-", "log-dhcp", ""}, "\n")}})
  local client = ns.add(t.prefix .. "b", {etc = {hosts = "10.77.0.1 gateway.lab\n", ["resolv.conf"] = "nameserver 10.77.0.1\n"}})
  server:veth("srv0", client, "cli0", {addr = "10.77.0.1/24"})
  return server, client
end

function TestDnsmasqReadsConfigFromEtcNetns(t)
  local f = io.open("/etc/dnsmasq.conf")
  if f then f:close(); t:skip("the host has /etc/dnsmasq.conf; this test needs it absent") end
  local server, client = dhcp_pair(t)
  local d = server:spawn({"dnsmasq", "--keep-in-foreground"}, {ready = "DHCP, IP range"})
  assert(d:alive(), "dnsmasq died: " .. d:output())
  local script = ns.lab().dir .. "/udhcpc.sh"
  write(script, UDHCPC_SCRIPT, "0755")
  local r = client:exec({"busybox", "udhcpc", "-f", "-q", "-n", "-i", "cli0", "-t", "10", "-T", "1", "-s", script}, {timeout = 20})
  t:eq(r.code, 0, "udhcpc exit code (" .. r.stderr .. ")")
  local ip = r.stdout:match("LEASE (%d+%.%d+%.%d+%.%d+)")
  assert(ip and ip:match("^10%.77%.0%."), "no lease from dnsmasq: " .. r.stdout .. r.stderr)
  local addrs = table.concat(client:link("cli0"):addrs(), " ")
  assert(addrs:find(ip, 1, true), "leased address not on cli0: " .. addrs)
  t:eq(client:exec({"ping", "-c1", "-W1", "10.77.0.1"}).code, 0, "ping the server")
  local f = io.open(ns.lab().dir .. "/leases")
  local leases = f:read("*a"); f:close()
  assert(leases:find(ip, 1, true), "lease file lacks " .. ip .. ": " .. leases)
end

function TestHostsAndResolvFromEtcNetns(t)
  local _, client = dhcp_pair(t)
  local r = client:exec({"getent", "hosts", "gateway.lab"})
  t:eq(r.code, 0, "getent")
  assert(r.stdout:find("10.77.0.1", 1, true), r.stdout)
  t:eq(client:exec({"cat", "/etc/resolv.conf"}).stdout, "nameserver 10.77.0.1\n", "resolv.conf inside")
  t:eq(client:exec({"getent", "hosts", "gateway.lab"}, {}).code, 0)
  t:eq(ns.host():exec({"getent", "hosts", "gateway.lab"}).code, 2, "the host does not see the namespace's hosts")
end

function TestDhclientLeavesHostResolvConfAlone(t)
  local before, before_ino = host_file("/etc/resolv.conf")
  local server, client = dhcp_pair(t)
  server:spawn({"dnsmasq", "--keep-in-foreground", "--dhcp-option=option:dns-server,10.77.0.53"}, {ready = "DHCP, IP range"})
  local dir = ns.lab().dir
  local r = client:exec({"dhclient", "-1", "-4", "-v", "-pf", dir .. "/dhclient.pid", "-lf", dir .. "/dhclient.leases", "cli0"}, {timeout = 30})
  t:eq(r.code, 0, "dhclient (" .. r.stderr .. ")")
  assert(r.stderr:find("bound to 10.77.0.", 1, true), "dhclient got no lease: " .. r.stderr)
  assert(client:etc("resolv.conf"):find("10.77.0.53", 1, true), "dhclient-script did not write the namespace's resolv.conf: " .. client:etc("resolv.conf"))
  local after, after_ino = host_file("/etc/resolv.conf")
  t:eq(after, before, "host /etc/resolv.conf bytes")
  t:eq(after_ino, before_ino, "host /etc/resolv.conf inode")
  client:exec({"dhclient", "-x", "-pf", dir .. "/dhclient.pid", "cli0"}, {timeout = 10})
end

function TestMissingHostTargetStillAppears(t)
  local name = "nslua-test-" .. t.prefix .. ".conf"
  local n = ns.add(t.prefix .. "m", {etc = {[name] = "hello\n"}})
  t:eq(n:exec({"cat", "/etc/" .. name}).stdout, "hello\n", "entry without a host target")
  t:eq(ns.host():exec({"test", "-e", "/etc/" .. name}).code, 1, "nothing made in the host's /etc")
  n:exec("echo written-inside > /etc/" .. name .. "; echo junk > /etc/" .. name .. ".other")
  t:eq(n:etc(name), "written-inside\n", "writes go to /etc/netns")
  t:eq(ns.host():exec({"test", "-e", "/etc/" .. name .. ".other"}).code, 1, "other writes stay inside")
end

function TestExecResults(t)
  local n = ns.add(t.prefix .. "r")
  local r = n:exec("echo out; echo err >&2; exit 3")
  t:eq(r.code, 3); t:eq(r.stdout, "out\n"); t:eq(r.stderr, "err\n")
  r = n:exec({"no-such-program-" .. t.prefix})
  t:eq(r.code, 127, "missing program")
  assert(r.stderr:find("not found", 1, true), r.stderr)
  r = n:exec({"cat"}, {stdin = "in\n"})
  t:eq(r.stdout, "in\n", "stdin")
  r = n:exec({"sh", "-c", "echo $X; pwd"}, {env = {X = "y"}, dir = "/usr"})
  t:eq(r.stdout, "y\n/usr\n", "env and dir")
  local start = os.time()
  r = n:exec("sleep 30 & sleep 30", {timeout = 0.3})
  assert(r.timeout and r.signal == "SIGKILL", "timeout not reported")
  assert(os.time() - start < 5, "timeout did not stop the command")
  local ok, err = pcall(n.exec, n, "exit 4", {check = true})
  assert(not ok and err:find("code 4", 1, true), "check=true: " .. tostring(err))
  t:eq(n:exec({"ls", "/sys/class/net"}).stdout, "lo\n", "/sys/class/net shows the namespace's links")
end

function TestExecBadInput(t)
  local n = ns.add(t.prefix .. "i")
  local cases = {
    {{}, "empty"}, {"", "empty"}, {{"ls", {}}, "cmd[2]"}, {{"ls", true}, "cmd[2]"},
    {nil, "cmd"}, {42, "cmd"},
  }
  for _, c in ipairs(cases) do
    local ok, err = pcall(n.exec, n, c[1])
    assert(not ok, "exec accepted " .. tostring(c[1]))
    assert(err:find(c[2], 1, true) and err:find("exec", 1, true), "unclear error: " .. err)
  end
  local ok, err = pcall(n.exec, n, {"true"}, {timeout = -1})
  assert(not ok and err:find("timeout", 1, true), tostring(err))
  for _, p in ipairs({"../x", "/etc/passwd", "a/../../b", ""}) do
    ok, err = pcall(n.etc, n, p, "x")
    assert(not ok, "etc accepted " .. p)
  end
  ok, err = pcall(ns.open, t.prefix .. "nonexistent")
  assert(not ok and err:find("does not exist", 1, true), tostring(err))
end

function TestSpawnReadyAndProc(t)
  local n = ns.add(t.prefix .. "p")
  local p = n:spawn("echo starting; echo READY now; exec sleep 100", {ready = "^READY"})
  assert(p:alive(), "not alive")
  assert(p:output():find("starting", 1, true), p:output())
  assert(tostring(p):find("sleep", 1, true) or tostring(p):find("sh", 1, true), tostring(p))
  p:kill()
  assert(not p:alive(), "alive after kill")
  local res = p:wait(1)
  t:eq(res.signal, "SIGTERM", "killed by TERM")

  local ok, err = pcall(n.spawn, n, "echo boom-before-ready; exit 1", {ready = "never"})
  assert(not ok and err:find("boom-before-ready", 1, true), "no log tail in: " .. tostring(err))
  ok, err = pcall(n.spawn, n, "sleep 100", {ready = "never", ready_timeout = 0.3})
  assert(not ok and err:find("not ready", 1, true), tostring(err))
  local q = n:spawn({"sh", "-c", "exit 7"})
  t:eq(q:wait(5).code, 7, "wait returns the exit code")
end

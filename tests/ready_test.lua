-- spawn's readiness beyond the log: a listening socket (sock_diag) and a
-- function. iperf3 -s without --forceflush buffers its "Server listening"
-- line, so a log pattern would never see it; the port does.

function TestReadyPortIperf3(t)
  local s = ns.add(t.prefix .. "s")
  local c = ns.add(t.prefix .. "c")
  s:veth("eth0", c, "eth0", {addr = "10.77.0.1/24", peer_addr = "10.77.0.2/24"})
  local before = ns.clock()
  local srv = s:spawn({"iperf3", "-s"}, {ready = {port = 5201}, ready_timeout = 5})
  assert(ns.clock() - before < 4, "ready took " .. (ns.clock() - before) .. " s")
  assert(srv:alive(), "iperf3 not alive")
  -- ready means a client can connect now, not "soon"
  local r = c:exec({"iperf3", "-c", "10.77.0.1", "-t", "1", "-J"}, {timeout = 20})
  t:eq(r.code, 0, "iperf3 client: " .. r.stderr .. r.stdout:sub(1, 300))
  assert(r.stdout:find('"sum_received"', 1, true), r.stdout:sub(1, 300))
end

function TestReadyPortUDP(t)
  local n = ns.add(t.prefix .. "u")
  -- dnsmasq as a DNS server only, on UDP (and TCP) 7777, after a delay
  local p = n:spawn("sleep 0.5; exec dnsmasq -k -C /dev/null --no-resolv --no-hosts -p 7777 -i lo --bind-interfaces",
    {ready = {port = 7777, proto = "udp"}, ready_timeout = 5})
  assert(p:alive())
  local listen = n:inspect().listen
  local found = false
  for _, l in ipairs(listen) do
    if l.proto == "udp" and l["local"]:find(":7777$") then found = true end
  end
  assert(found, "inspect does not list udp 7777")
end

function TestReadyPortNeverOpens(t)
  local n = ns.add(t.prefix .. "n")
  local before = ns.clock()
  local ok, err = pcall(n.spawn, n, "echo waiting here; exec sleep 100", {ready = {port = 5999}, ready_timeout = 0.5})
  assert(not ok, "spawn did not fail")
  assert(err:find("not ready after 500ms (nothing listens on tcp port 5999 in its namespace)", 1, true), err)
  assert(err:find("waiting here", 1, true), "no log tail in: " .. err)
  assert(ns.clock() - before < 5, "took " .. (ns.clock() - before))
  t:eq(#n:pids(), 0, "the process was stopped")
  -- a process that dies says so
  ok, err = pcall(n.spawn, n, "echo died early; exit 3", {ready = {port = 5999, proto = "udp"}})
  assert(not ok and err:find("exited before it was ready (nothing listens on udp port 5999", 1, true), err)
  assert(err:find("died early", 1, true), err)
  -- bad tables are refused before anything starts
  ok, err = pcall(n.spawn, n, "sleep 1", {ready = {port = 0}})
  assert(not ok and err:find("ready.port must be a port number", 1, true), err)
  ok, err = pcall(n.spawn, n, "sleep 1", {ready = {port = 1, proto = "sctp"}})
  assert(not ok and err:find("ready.proto must be", 1, true), err)
  ok, err = pcall(n.spawn, n, "sleep 1", {ready = {prot = 1}})
  assert(not ok and err:find("unknown key \"prot\"", 1, true), err)
  t:eq(#n:pids(), 0, "nothing was started")
end

function TestReadyFunction(t)
  local n = ns.add(t.prefix .. "f")
  local dir = ns.lab().dir
  local calls = 0
  local p = n:spawn("sleep 0.3; touch " .. dir .. "/flag; exec sleep 100", {ready = function(proc)
    calls = calls + 1
    assert(proc.pid > 0)
    local f = io.open(dir .. "/flag")
    if f then f:close() end
    return f ~= nil
  end})
  assert(p:alive())
  assert(calls >= 2 and calls < 20, "called " .. calls .. " times")
  local ok, err = pcall(n.spawn, n, "exec sleep 100", {ready = function() return false end, ready_timeout = 0.3})
  assert(not ok and err:find("the ready function never returned true", 1, true), err)
  ok, err = pcall(n.spawn, n, "exec sleep 100", {ready = function() error("broken check") end})
  assert(not ok and err:find("ready function: ", 1, true) and err:find("broken check", 1, true), err)
  ns.sleep(0.1)
  t:eq(#n:pids(), 1, "only the first process is left")
end

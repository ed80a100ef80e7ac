-- The lab of tests/nat_test.go: client -- router -- wan, where wan stands
-- for the internet (it has no route back to the client's network). The
-- router is a namespace the lab did not make (ns.open), so its nftables
-- table must be removed by teardown, or by `nslua down` after a kill -9.
--
-- nslua nat_lab.lua PREFIX ROUTER MODE    (MODE: end | wait)
-- Prints "masq ok", "forward ok", then "ready".

local p, routerName, mode = arg[1], arg[2], arg[3]
assert(p and routerName and mode, "usage: nat_lab.lua PREFIX ROUTER MODE")

local router = ns.open(routerName)
local client = ns.add(p .. "c")
local wan = ns.add(p .. "w")
client:veth("eth0", router, p .. "lan", {addr = "10.61.1.2/24", peer_addr = "10.61.1.1/24"})
wan:veth("eth0", router, p .. "wan", {addr = "10.61.9.2/24", peer_addr = "10.61.9.1/24"})
client:route("default", "10.61.1.1")
router:sysctl("net.ipv4.ip_forward", 1)

router:masquerade(p .. "wan", {source = "10.61.1.0/24"})
router:forward{proto = "tcp", port = 8080, to = "10.61.1.2:80", iif = p .. "wan"}

-- masquerade: the wan side sees the router's address, and answers it
local dump = wan:spawn({"tcpdump", "-n", "-l", "-c", "1", "-i", "eth0", "icmp"}, {ready = "listening on"})
local r = client:exec({"ping", "-c", "1", "-W", "5", "10.61.9.2"})
assert(r.code == 0, "ping through the masquerading router failed: " .. r.stdout .. r.stderr)
local d = dump:wait(10)
assert(d, "tcpdump saw nothing")
assert(d.stdout:find("10.61.9.1 > 10.61.9.2: ICMP echo request", 1, true),
  "wan did not see the router's address as source:\n" .. d.stdout)
print("masq ok")

-- port forward: wan reaches the client's web server through the router
local www = ns.lab().dir .. "/www"
client:exec({"mkdir", "-p", www}, {check = true})
client:exec({"sh", "-c", "echo hello-" .. p .. " > " .. www .. "/index.html"}, {check = true})
client:spawn({"busybox", "httpd", "-f", "-p", "80", "-h", www})
local body
for _ = 1, 50 do
  -- (busybox wget crashes on Debian 12's busybox 1.35: nc speaks HTTP/1.0)
  local w = wan:exec({"busybox", "nc", "-w", "3", "10.61.9.1", "8080"}, {stdin = "GET /index.html HTTP/1.0\r\n\r\n"})
  body = w.stdout:match("\r\n\r\n(.*)$")
  if w.code == 0 and body then break end
  ns.sleep(0.1)
end
assert(body == "hello-" .. p .. "\n", "port forward: got " .. tostring(body))
print("forward ok")

print("ready")
if mode == "wait" then ns.wait() end

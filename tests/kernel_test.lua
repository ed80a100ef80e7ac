-- Kernel features this host's kernel lacks (netem, 802.1Q), run in the
-- Debian kernel that tests/vm boots under qemu; each Test* here is started
-- by a TestKernel* Go function that checks for the modules first.

local function ping_rtt(n, addr)
  local r = n:exec({"ping", "-c", "3", "-i", "0.3", "-W", "5", addr}, {timeout = 30})
  if r.code ~= 0 then
    error(("ping %s from %s failed (code %d): %s%s"):format(addr, n.name, r.code, r.stdout, r.stderr))
  end
  local avg = r.stdout:match("rtt min/avg/max/mdev = [%d.]+/([%d.]+)/")
  return assert(tonumber(avg), "no rtt in: " .. r.stdout)
end

-- A 100 ms netem delay on one end of a veth, added with tc inside the
-- namespace, shows in the round trip; removing it takes it away again.
function TestNetemDelay(t)
  local a, b = ns.add(t.prefix .. "a"), ns.add(t.prefix .. "b")
  a:veth("eth0", b, "eth0", {addr = "10.9.0.1/24", peer_addr = "10.9.0.2/24"})
  local before = ping_rtt(a, "10.9.0.2")
  local r = a:exec({"tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", "100ms"})
  t:eq(r.code, 0, "tc qdisc add netem: " .. r.stderr)
  local shaped = ping_rtt(a, "10.9.0.2")
  t:log(("rtt %.2f ms without netem, %.2f ms with 100 ms delay"):format(before, shaped))
  if shaped < 100 or shaped > before + 400 then
    t:fatal(("rtt with netem delay 100ms is %.2f ms (without: %.2f ms)"):format(shaped, before))
  end
  t:eq(a:exec({"tc", "qdisc", "del", "dev", "eth0", "root"}).code, 0, "tc qdisc del")
  local after = ping_rtt(a, "10.9.0.2")
  if after >= 100 then
    t:fatal(("rtt after removing netem is still %.2f ms"):format(after))
  end
end

-- An 802.1Q sub-interface on each end of a veth, made with ip inside the
-- namespaces: tagged traffic passes between them, and the frames on the
-- parent carry the tag.
function TestVLAN(t)
  local a, b = ns.add(t.prefix .. "a"), ns.add(t.prefix .. "b")
  a:veth("eth0", b, "eth0")
  for i, n in ipairs({a, b}) do
    local cmds = {
      {"ip", "link", "add", "link", "eth0", "name", "eth0.10", "type", "vlan", "id", "10"},
      {"ip", "addr", "add", "10.10.0." .. i .. "/24", "dev", "eth0.10"},
      {"ip", "link", "set", "eth0.10", "up"},
    }
    for _, c in ipairs(cmds) do
      local r = n:exec(c)
      t:eq(r.code, 0, table.concat(c, " ") .. " in " .. n.name .. ": " .. r.stderr)
    end
  end
  local info = a:exec({"ip", "-d", "link", "show", "eth0.10"}, {check = true}).stdout
  if not info:find("vlan protocol 802.1Q id 10", 1, true) then
    t:fatal("eth0.10 is not an 802.1Q id 10 sub-interface: " .. info)
  end
  local r = a:exec({"ping", "-c", "2", "-W", "5", "10.10.0.2"}, {timeout = 30})
  t:eq(r.code, 0, "ping over eth0.10: " .. r.stdout .. r.stderr)
  -- the untagged parents have no IPv4 address: the ping went over the VLAN
  for _, addr in ipairs(a:link("eth0"):addrs()) do
    if not tostring(addr):find(":", 1, true) then t:fatal("eth0 has an IPv4 address: " .. tostring(addr)) end
  end
end

-- Wi-Fi over mac80211_hwsim's two radios (loaded by the Go test): an AP
-- namespace with hostapd and dnsmasq on its radio, a station namespace with
-- wpa_supplicant on the other. Readiness comes from the daemons' events.
local wifi = require("nslua.wifi")
local dhcp = require("nslua.dhcp")

local SSID, SECRET = "nslua-test", "correct horse battery"

local function wifi_lab(t, ap_opts, sta_opts)
  local start = ns.clock()
  local apns, stans = ns.add(t.prefix .. "ap"), ns.add(t.prefix .. "sta")
  ap_opts.ssid, sta_opts.ssid = SSID, SSID
  local a = wifi.ap(apns, ap_opts)
  local t_ap = ns.clock()
  t:eq(apns:link(a.iface).name, a.iface, "the AP's radio interface is in the AP namespace")
  apns:addr(a.iface, "10.77.0.1/24")
  local srv = dhcp.server(apns, {iface = a.iface, range = {100, 150}})
  local t_dhcp = ns.clock()
  local sta = wifi.station(stans, sta_opts)
  t:log(("AP enabled after %.1f s, dnsmasq %.1f s, wpa_supplicant %.1f s"):format(t_ap - start,
    t_dhcp - t_ap, ns.clock() - t_dhcp))
  return a, sta, srv
end

local function connects(t, a, sta, srv)
  local start = ns.clock()
  local ok, why = sta:wait(120)
  if not ok then t:fatal(why) end
  t:log(("connected after %.1f s"):format(ns.clock() - start))
  t:eq(sta:status().wpa_state, "COMPLETED", "wpa_state after CTRL-EVENT-CONNECTED")
  local mac = sta.ns:link(sta.iface):mac()
  t:eq(a:authorized(mac), true, "hostapd has the station authorized")
  local lease = dhcp.udhcpc(sta.ns, sta.iface, {tries = 10})
  t:log("associated; lease " .. lease.ip .. " from " .. tostring(lease.server))
  local leases = srv:leases()
  t:eq(#leases, 1, "leases in dnsmasq's lease file")
  t:eq(leases[1].mac:lower(), mac:lower(), "the lease's MAC")
  local r = sta.ns:exec({"ping", "-c", "2", "-W", "5", "10.77.0.1"}, {timeout = 30})
  t:eq(r.code, 0, "ping to the AP across the air: " .. r.stdout .. r.stderr)
end

local function refused(t, a, sta, srv)
  local ok, why = sta:wait(120)
  if ok then t:fatal("the station associated with wrong credentials") end
  t:log("refused: " .. why)
  t:eq(sta:status().wpa_state ~= "COMPLETED", true, "not associated (wpa_state)")
  local lease = dhcp.udhcpc(sta.ns, sta.iface, {tries = 3, check = false})
  if lease then t:fatal("a lease without association: " .. lease.ip) end
  t:eq(#srv:leases(), 0, "leases in dnsmasq's lease file")
end

function TestWifiPSK(t)
  connects(t, wifi_lab(t, {passphrase = SECRET}, {passphrase = SECRET}))
end

function TestWifiPSKWrong(t)
  refused(t, wifi_lab(t, {passphrase = SECRET}, {passphrase = "not the passphrase"}))
end

local EAP = {users = {alice = SECRET}, methods = {"PEAP"}, phase2 = {"MSCHAPV2"}}

function TestWifiPEAP(t)
  connects(t, wifi_lab(t, EAP, {method = "PEAP", identity = "alice", password = SECRET}))
end

function TestWifiPEAPWrong(t)
  refused(t, wifi_lab(t, EAP, {method = "PEAP", identity = "alice", password = "not the password"}))
end

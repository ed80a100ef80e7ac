-- The built-in libraries, used as a lab author would.
local topo = require("nslua.topo")
local dhcp = require("nslua.dhcp")
local ap = require("nslua.ap")

function TestErrorsPointAtTheCaller(t)
  local ok, err = pcall(function() topo.star{prefix = t.prefix .. "x"} end)
  assert(not ok and err:find("libs_test.lua:", 1, true) and err:find("option n is required", 1, true), err)
  ok, err = pcall(function() topo.cidr.host("10.0.0.0/30", 3) end)
  assert(not ok and err:find("libs_test.lua:", 1, true), err)
end

function TestDhcpServerAndClients(t)
  local p = t.prefix
  local s = topo.star{prefix = p, n = 3, subnet = "10.80.0.0/24", hub = p .. "hub", leaf_addr = false}
  local mac3 = s.leaves[3].link:mac()
  local srv = dhcp.server(s.hub, {iface = "br0", router = false, dns = {"10.80.0.1", "10.80.0.2"}, domain = "x.test",
    lease_time = 600, hosts = {{mac = mac3, ip = 42, name = "fixed"}}})
  local l1 = dhcp.udhcpc(s.leaves[1].ns, "eth0", {resolv = true})
  assert(l1.router == nil and #l1.dns == 2 and l1.lease_time == 600 and l1.domain == "x.test", tostring(l1))
  t:eq(s.leaves[1].ns:exec({"cat", "/etc/resolv.conf"}).stdout, "search x.test\nnameserver 10.80.0.1\nnameserver 10.80.0.2\n", "udhcpc resolv=true")
  t:eq(s.leaves[1].ns:exec({"ip", "route", "show", "default"}).stdout, "", "no default route without a router")
  local l2 = dhcp.dhclient(s.leaves[2].ns, "eth0", {resolv = true})
  assert(l2.router == nil and #l2.dns == 2 and l2.lease_time == 600 and l2.domain == "x.test" and l2.mask == 24, tostring(l2))
  assert(s.leaves[2].ns:exec({"cat", "/etc/resolv.conf"}).stdout:find("nameserver 10.80.0.2", 1, true), "dhclient resolv=true")
  local l3 = dhcp.udhcpc(s.leaves[3].ns, "eth0")
  t:eq(l3.ip, "10.80.0.42", "fixed lease by MAC")
  t:eq(#srv:leases(), 3, "leases")
  l2:stop()
  assert(not l2.proc:alive(), "dhclient stopped")

  local br2 = s.hub:bridge("br1"); br2:addr("10.81.0.1/24")
  local c4 = ns.add(p .. "c4"); s.hub:veth("q1", c4, "eth0"); s.hub:link("q1"):master(br2)
  local srv2 = dhcp.server(s.hub, {iface = "br1", range = {"10.81.0.10", "10.81.0.20"}})
  t:eq(srv2.conf, "dnsmasq-br1.conf", "second server's own conf")
  local l4 = dhcp.udhcpc(c4, "eth0")
  assert(l4.router == "10.81.0.1" and l4.ip:match("^10%.81%.0%.%d+$"), tostring(l4))

  srv:stop(); srv2:stop()
  local nl, why = dhcp.udhcpc(s.leaves[1].ns, "eth0", {tries = 2, check = false})
  assert(nl == nil and why:find("no lease"), tostring(why))
  nl, why = dhcp.dhclient(c4, "eth0", {timeout = 2, check = false})
  assert(nl == nil and why:find("no lease"), tostring(why))
  local ok = pcall(dhcp.udhcpc, c4, "eth0", {tries = 1})
  assert(not ok, "udhcpc raises by default")
end

function TestWifiNeedsARadio(t)
  local n = ns.add(t.prefix .. "w")
  local f = io.open("/sys/class/ieee80211")
  if f then f:close(); t:skip("this machine has a wireless stack; covered by TestKernelWifi") end
  if ns.host():exec({"modinfo", "mac80211_hwsim"}).code == 0 then
    t:skip("this kernel has mac80211_hwsim; covered by TestKernelWifi")
  end
  -- the error names both missing pieces, in one line
  local ok, err = pcall(ap.wifi, n, {ssid = "lab"})
  assert(not ok and err:find("cfg80211", 1, true) and err:find("mac80211_hwsim", 1, true), tostring(err))
  assert(not err:find("\n"), err)
  ok, err = pcall(ap.wifi_station, n, {ssid = "lab"})
  assert(not ok and err:find("cfg80211", 1, true) and err:find("mac80211_hwsim", 1, true), tostring(err))
end

function TestAuthenticatorOnBridgeAndLockedPortLogoff(t)
  local p = t.prefix
  local s = topo.star{prefix = p, n = 2, subnet = "10.82.0.0/24", hub = p .. "sw", leaf_addr = false}
  local auth = ap.authenticator(s.hub, {iface = "br0", users = {alice = "secret", bob = {password = "pw", methods = {"MD5"}}}, methods = {"MD5"}})
  assert(s.hub:exec({"ip", "-d", "link", "show", "br0"}).stdout:find("group_fwd_mask 0x8", 1, true), "bridge forwards EAPOL")
  local sup = ap.supplicant(s.leaves[1].ns, {iface = "eth0", method = "MD5", identity = "bob", password = "pw"})
  local ok, why = sup:wait(10)
  assert(ok, "MD5 login via hostapd on the bridge: " .. tostring(why))
  assert(sup:authorized(), "supplicant authorized")
  assert(auth:authorized(s.leaves[1].link:mac()), "authenticator sees the station")
  auth:stop(); sup:stop()
  local okl, err = pcall(ap.locked_port, s.hub, {port = "p2", users = {alice = "secret"}})
  assert(not okl and err:find("group_fwd_mask", 1, true), "locked_port must refuse an EAPOL-forwarding bridge: " .. tostring(err))
  s.bridge:group_fwd_mask(0)
  local port = ap.locked_port(s.hub, {port = "p2", users = {alice = "secret"}})
  local c = s.leaves[2]
  local sup2 = ap.supplicant(c.ns, {iface = "eth0", identity = "alice", password = "secret", method = "ttls"})
  assert(sup2:wait(10), "TTLS login")
  assert(port:wait(c.link:mac()), "port opened")
  sup2:logoff()
  local closed = false
  for _ = 1, 40 do
    if #port:allowed() == 0 then closed = true; break end
    ns.sleep(0.05)
  end
  assert(closed, "logoff closed the port")
end

function TestLibrariesRefuseNewlinesInConfig(t)
  local n = ns.add(t.prefix .. "d")
  n:bridge("br0"):addr("10.82.0.1/24")
  local ok, err = pcall(dhcp.server, n, {iface = "br0", domain = "x.test\nport=53"})
  assert(not ok and err:find("newline", 1, true) and err:find("libs_test.lua:", 1, true), err)
  ok, err = pcall(dhcp.server, n, {iface = "br0", ifname = "br0"})
  assert(not ok and err:find('unknown option "ifname"', 1, true), err)
  t:eq(n:etc("dnsmasq.conf"), nil, "no configuration written")
end

-- dhcp.server as the lab's DNS server: names, merging of dnsmasq options,
-- refreshing the names.
local topo = require("nslua.topo")
local dhcp = require("nslua.dhcp")

local function lookup(from, name, server)
  local r = from:exec({"busybox", "nslookup", "-type=a", name, server})
  return (r.stdout:match("Name:.*") or ""):match("(%d+%.%d+%.%d+%.%d+)"), r.stdout .. r.stderr
end

function TestDnsNamesMapAndOptionsMerge(t)
  local s = topo.star{prefix = t.prefix, n = 1, subnet = "10.95.0.0/24", hub = t.prefix .. "hub", leaf_addr = false}
  -- port=53 and domain= replace nslua's own lines (before: "illegal repeated keyword")
  local srv = dhcp.server(s.hub, {iface = "br0", domain = "a.test", dns_names = {printer = "10.95.0.9"},
    options = {"port=53", "domain=b.test", "log-queries", "address=/fixed.test/10.95.0.7"}})
  local conf = s.hub:etc(srv.conf)
  local _, ports = conf:gsub("\nport=", "")
  t:eq(ports, 1, "one port line")
  assert(not conf:find("domain=a.test", 1, true) and conf:find("domain=b.test", 1, true), conf)
  local l = dhcp.udhcpc(s.leaves[1].ns, "eth0")
  t:eq(l.dns[1], "10.95.0.1", "option 6 defaults to dnsmasq's address")
  local ip, out = lookup(s.leaves[1].ns, "printer", "10.95.0.1")
  t:eq(ip, "10.95.0.9", "printer: " .. out)
  ip, out = lookup(s.leaves[1].ns, "fixed.test", "10.95.0.1")
  t:eq(ip, "10.95.0.7", "a repeatable keyword adds: " .. out)
  assert(srv.proc:output():find("query%[A%] printer"), "log-queries: " .. srv.proc:output())
end

function TestDnsNamesOfTheLabAndRefresh(t)
  local s = topo.star{prefix = t.prefix, names = {t.prefix .. "db"}, subnet = "10.96.0.0/24", hub = t.prefix .. "hub"}
  local srv = dhcp.server(s.hub, {iface = "br0", dns_names = true})
  local db = s.leaves[1]
  local ip, out = lookup(s.hub, db.name, "10.96.0.1")
  t:eq(ip, db.ip, "the leaf by its namespace name: " .. out)
  -- a namespace added later resolves after refresh_names
  local late = ns.add(t.prefix .. "late")
  local port = s.hub:veth("p9", late, "eth0", {peer_addr = "10.96.0.99/24"})
  port:master(s.bridge)
  t:eq(lookup(s.hub, late.name, "10.96.0.1"), nil, "not yet")
  srv:refresh_names()
  ns.sleep(0.3)
  ip, out = lookup(s.hub, late.name, "10.96.0.1")
  t:eq(ip, "10.96.0.99", "after refresh_names: " .. out)
  -- a DHCP-only server never listens on 53, and refresh_names says why it cannot
  local other = ns.add(t.prefix .. "o")
  other:veth("eth0", ns.add(t.prefix .. "o2"), "eth0", {addr = "10.97.0.1/24"})
  local plain = dhcp.server(other, {iface = "eth0"})
  local r = other:exec({"ss", "-Hlun", "sport = :53"})
  t:eq(r.stdout, "", "no DNS without dns_names")
  local ok, err = pcall(plain.refresh_names, plain)
  assert(not ok and err:find("started without dns_names", 1, true), err)
end

-- A star built the fast way (topo.star makes its bridge down and brings it
-- up after the last port) still carries IPv4 and IPv6 across the bridge:
-- neighbour discovery (ARP; NDP to solicited-node multicast, through the
-- bridge's multicast snooping) and pings, link-local and global. Traffic
-- only flows between namespaces made here.
local topo = require("nslua.topo")

local function sh(n, cmd)
  return n:exec({"sh", "-c", cmd}, {check = true}).stdout
end

-- link_local waits for the link-local address of n's eth0 to finish
-- duplicate address detection (it is tentative for about a second after
-- the link comes up) and returns it.
local function link_local(n)
  for _ = 1, 100 do
    local out = sh(n, "ip -6 -o addr show dev eth0 scope link")
    local a = out:match("inet6 (fe80::[%x:]+)/64")
    if a and not out:find("tentative", 1, true) then return a end
    ns.sleep(0.05)
  end
  error(n.name .. ": eth0 has no usable link-local address after 5 s")
end

-- neighbour asserts that n resolved ip to mac (REACHABLE, STALE, DELAY or
-- PROBE: anything but FAILED/INCOMPLETE has the lladdr).
local function neighbour(t, n, ip, mac, what)
  local out = sh(n, "ip neigh show " .. ip)
  assert(out:find("lladdr " .. mac, 1, true), what .. ": " .. n.name .. " has no neighbour entry " .. ip .. " -> " .. mac .. ": " .. out)
end

function TestFastStarCarriesIPv4AndIPv6(t)
  local s = topo.star{prefix = t.prefix, n = 4, subnet = "10.83.0.0/24"}
  t:eq(s.bridge:info().state, "up", "bridge up after the build")
  s.bridge:addr("fd83::1/64")
  for i, leaf in ipairs(s.leaves) do
    leaf.link:addr(string.format("fd83::%d/64", i + 1))
  end
  local first, last = s.leaves[1], s.leaves[4]
  local mac_last, mac_br = last.link:mac(), s.bridge:mac()

  first.ns:exec({"ping", "-c1", "-W2", last.ip}, {check = true})
  neighbour(t, first.ns, last.ip, mac_last, "ARP leaf to leaf")
  last.ns:exec({"ping", "-c1", "-W2", s.gateway}, {check = true})
  neighbour(t, last.ns, s.gateway, mac_br, "ARP leaf to hub")

  first.ns:exec({"ping", "-6", "-c1", "-W2", "fd83::5"}, {check = true})
  neighbour(t, first.ns, "fd83::5", mac_last, "NDP global leaf to leaf")
  last.ns:exec({"ping", "-6", "-c1", "-W2", "fd83::1"}, {check = true})
  neighbour(t, last.ns, "fd83::1", mac_br, "NDP global leaf to hub")

  local ll = link_local(last.ns)
  link_local(first.ns)
  first.ns:exec({"ping", "-6", "-c1", "-W2", ll .. "%eth0"}, {check = true})
  neighbour(t, first.ns, ll, mac_last, "NDP link-local leaf to leaf")
end

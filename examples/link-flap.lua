-- A link flap on a timeline: a 10 Mbit/s link between two namespaces goes
-- down and up every half second while a ping runs, and the ping shows it.
-- `nslua examples/link-flap.lua [PREFIX]`. Works on any kernel (the rate is
-- a tbf qdisc; the flap is the link itself).
local prefix = arg[1] or "flap"
local a, b = ns.add(prefix .. "a"), ns.add(prefix .. "b")
local la = a:veth("eth0", b, "eth0", {addr = "10.201.0.1/24", peer_addr = "10.201.0.2/24",
  shape = {rate = "10mbit", peer = true}})
a:exec({"ping", "-c1", "-W2", "10.201.0.2"}, {check = true})

-- The ping starts first (it needs the link up to start), line-buffered so
-- that its "PING" line says it runs; ns.every then flaps the link while
-- p:wait waits: timers run inside the script's waits.
local p = a:spawn({"stdbuf", "-oL", "ping", "-n", "-c", "40", "-i", "0.05", "-W", "1", "10.201.0.2"}, {ready = "^PING"})
local up, flips = true, 0
local flap = ns.every(0.5, function()
  if up then la:down() else la:up() end
  up, flips = not up, flips + 1
end)
local r = p:wait(60)
flap:cancel()
if not up then la:up() end

local got = tonumber(r.stdout:match("(%d+) received"))
print(string.format("link down every other half second (%d flips): %d of 40 pings answered", flips, got))
assert(got > 0 and got < 40, "the flap does not show in the ping:\n" .. r.stdout)
ns.sleep(0.2) -- the address routes come back with the link
a:exec({"ping", "-c1", "-W2", "10.201.0.2"}, {check = true})
print("link up again: " .. la:shape().rate .. " each way")

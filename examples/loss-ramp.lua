-- A loss ramp: the loss on a link rises step by step (0, 5, 20, 50%) on a
-- timeline while one long ping runs, and the loss per step is printed.
-- `nslua examples/loss-ramp.lua [PREFIX]`.
-- Needs sch_netem (the netem qdisc) in the kernel: where it is missing the
-- first step raises "loss: the kernel has no sch_netem ...".
local prefix = arg[1] or "ramp"
local a, b = ns.add(prefix .. "a"), ns.add(prefix .. "b")
local la = a:veth("eth0", b, "eth0", {addr = "10.202.0.1/24", peer_addr = "10.202.0.2/24"})
a:exec({"ping", "-c1", "-W2", "10.202.0.2"}, {check = true})

local steps = {0, 5, 20, 50}
local step_secs, interval = 2, 0.01
local i = 1
la:shape(false)
ns.every(step_secs, function(timer)
  i = i + 1
  if i > #steps then return timer:cancel() end
  la:shape{loss = steps[i] .. "%"}
end)
local count = #steps * step_secs / interval
local r = a:exec({"ping", "-n", "-c", tostring(count), "-i", tostring(interval), "-W", "1", "10.202.0.2"})

-- replies by step, from their sequence numbers
local answered = {}
for seq in r.stdout:gmatch("icmp_seq=(%d+)") do
  local k = math.floor((tonumber(seq) - 1) * interval / step_secs) + 1
  answered[k] = (answered[k] or 0) + 1
end
local per = step_secs / interval
local prev = -1
for k, loss in ipairs(steps) do
  local lost = 100 * (per - (answered[k] or 0)) / per
  print(string.format("loss = %2d%%: %5.1f%% of %d pings lost", loss, lost, per))
  if k > 1 then assert(lost >= prev - 5, "loss should rise with the ramp") end
  prev = lost
end

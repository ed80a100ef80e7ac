-- A loss ramp: the loss on a link rises step by step (0, 5, 20, 50%) on a
-- timeline while one long ping runs, and the loss of each step is printed.
-- `nslua examples/loss-ramp.lua [PREFIX]`.
-- Needs sch_netem (the netem qdisc) in the kernel: where it is missing the
-- first step raises "loss: the kernel has no sch_netem ...".
local prefix = arg[1] or "ramp"
local a, b = ns.add(prefix .. "a"), ns.add(prefix .. "b")
local la = a:veth("eth0", b, "eth0", {addr = "10.202.0.1/24", peer_addr = "10.202.0.2/24"})
a:exec({"ping", "-c1", "-W2", "10.202.0.2"}, {check = true})

local steps, step_secs = {0, 5, 20, 50}, 2
-- ping until stopped; -O prints a line for a request that got no answer
local p = a:spawn({"stdbuf", "-oL", "ping", "-n", "-O", "-i", "0.01", "-W", "1", "10.202.0.2"}, {ready = "^PING"})
local function last_seq()
  local last = 0
  for seq in p:output():gmatch("icmp_seq=(%d+)") do last = math.max(last, tonumber(seq)) end
  return last
end

-- each step starts at the sequence number the ping had reached
local starts, i = {1}, 1
ns.every(step_secs, function(timer)
  starts[#starts + 1] = last_seq() + 1
  i = i + 1
  if i > #steps then
    timer:cancel()
    return p:kill("INT")
  end
  la:shape{loss = steps[i] .. "%"}
end)
p:wait()

local answered = {}
for seq in p:output():gmatch("icmp_seq=(%d+) ttl=") do answered[tonumber(seq)] = true end
local prev = -1
for k, loss in ipairs(steps) do
  local sent, got = 0, 0
  for seq = starts[k], starts[k + 1] - 1 do
    sent = sent + 1
    if answered[seq] then got = got + 1 end
  end
  local lost = 100 * (sent - got) / math.max(sent, 1)
  print(string.format("loss = %2d%%: %5.1f%% of %d pings lost", loss, lost, sent))
  assert(lost >= prev - 5, "the loss should rise with the ramp")
  prev = lost
end

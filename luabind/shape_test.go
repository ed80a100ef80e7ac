package luabind

import "testing"

func init() { badCalls = append(badCalls, shapeBadCalls...) }

var shapeBadCalls = []badCall{
	{"Link:shape", `va:shape(1)`, "argument #1 (shape) must be a table, or false"},
	{"Link:shape", `va:shape(true)`, "or false to remove"},
	{"Link:shape", `va:shape({}, 1)`, "at most 1"},
	{"Link:shape", `va:shape{delay = 20}`, "delay: '20' has no unit; write 20ms"},
	{"Link:shape", `va:shape{delay = "20"}`, "delay: '20' has no unit; write 20ms"},
	{"Link:shape", `va:shape{loss = "5"}`, "loss: '5' has no unit; write 5%"},
	{"Link:shape", `va:shape{rate = "10mbps"}`, "ambiguous"},
	{"Link:shape", `va:shape{rate = "0mbit"}`, "below 8bit"},
	{"Link:shape", `va:shape{rate = BIG}`, "not a number with a unit"},
	{"Link:shape", `va:shape{bandwidth = "1mbit"}`, "unknown key (known: rate, burst"},
	{"Link:shape", `va:shape{rate = {}}`, "rate must be a string"},
	{"Link:shape", `va:shape{"10mbit"}`, "shape keys must be strings"},
	{"Link:shape", `va:shape{rate = "1mbit", peer = 1}`, "peer must be true or a shape table"},
	{"Link:shape", `va:shape{rate = "1mbit", peer = {peer = true}}`, "no peer of its own"},
	{"Link:shape", `va:shape{rate = "1mbit", peer = {delay = "5"}}`, "peer: delay: '5' has no unit"},
	{"Link:shape", `va:shape{jitter = "1ms"}`, "jitter needs a delay"},
	{"Link:shape", `va:shape{burst = "15kb"}`, "burst needs a rate"},
	{"Link:shape", `va.shape(n, {})`, "must be called on a Link, got Netns"},
	{"ns.after", `ns.after()`, "argument #1 (seconds) must be a number, got nil"},
	{"ns.after", `ns.after("1", print)`, "got string"},
	{"ns.after", `ns.after(1)`, "argument #2 (fn) must be a function, got nil"},
	{"ns.after", `ns.after(1, "print")`, "argument #2 (fn) must be a function"},
	{"ns.after", `ns.after(-1, print)`, "out of range"},
	{"ns.after", `ns.after(0/0, print)`, "finite"},
	{"ns.after", `ns.after(1e300, print)`, "out of range"},
	{"ns.after", `ns.after(1, print, 3)`, "at most 2"},
	{"ns.every", `ns.every()`, "argument #1 (seconds) must be a number"},
	{"ns.every", `ns.every(0, print)`, "at least 0.001"},
	{"ns.every", `ns.every(1, {})`, "argument #2 (fn) must be a function, got table"},
	{"ns.every", `ns.every(1/0, print)`, "finite"},
}

// Timers run in order while the script sleeps, each once (ns.after) or
// on every period (ns.every) until cancelled, and nested waits inside a
// timer's function run no timers.
func TestTimeline(t *testing.T) {
	b := startBiLab(t)
	b.must(t, `
		local log = {}
		local t0 = ns.clock()
		ns.after(0.15, function() log[#log + 1] = "after" end)
		local ticks = 0
		local every = ns.every(0.05, function(tm)
			ticks = ticks + 1
			log[#log + 1] = "tick"
			if ticks == 5 then tm:cancel() end
		end)
		local dropped = ns.after(0.1, function() error("cancelled timer ran") end)
		dropped:cancel()
		ns.sleep(0.4)
		assert(ticks == 5, "ticks: " .. ticks)
		assert(table.concat(log, ","):find("tick,tick,after,tick", 1, true), table.concat(log, ","))
		assert(tostring(every):find("done"), tostring(every))
		-- a busy script: missed ticks are skipped, not caught up
		local n = 0
		local tm = ns.every(0.01, function() n = n + 1 end)
		local t1 = ns.clock()
		while ns.clock() - t1 < 0.1 do end
		ns.sleep(0)
		assert(n == 1, "after a busy spell the timer ran " .. n .. " times")
		tm:cancel()
		-- inside a timer, a sleep runs no other timer
		local inner = 0
		ns.every(0.01, function() inner = inner + 1 end)
		local outer = ns.after(0, function(self) ns.sleep(0.1) end)
		ns.sleep(0.001)
		assert(inner <= 1, "nested sleep ran timers: " .. inner)
	`)
}

// An error in a timer's function is raised by the waiting call (here a
// process wait and an exec, which is killed), naming where it was set.
func TestTimelineErrors(t *testing.T) {
	b := startBiLab(t)
	b.must(t, `
		n = ns.add(P .. "a")
		local tm = ns.after(0.05, function() error("boom") end)
		local t0 = ns.clock()
		local ok, err = pcall(n.exec, n, {"sleep", "5"})
		assert(not ok and err:find(":exec: ns.after function %(set at .-%): .-boom"), tostring(err))
		assert(ns.clock() - t0 < 2, "the exec was not cut short")
		local p = n:spawn({"sleep", "5"})
		ns.after(0.05, function() error("again") end)
		ok, err = pcall(p.wait, p)
		assert(not ok and err:find("again"), tostring(err))
		p:kill(9)
		-- an exec with timers pending returns its result as usual
		local flips = 0
		ns.every(0.02, function() flips = flips + 1 end)
		local r = n:exec({"sh", "-c", "sleep 0.2; echo done"})
		assert(r.code == 0 and r.stdout == "done\n", "exec result: " .. r.code .. " " .. r.stdout)
		assert(flips >= 5, "timers during exec: " .. flips)
		local r2 = p:wait(1)
		assert(r2 and r2.signal == "SIGKILL", "wait result")
	`)
}

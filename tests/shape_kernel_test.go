package tests

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The netem half of link:shape; this host's kernel lacks sch_netem, so
// these run in the VM (tests/vm).

var rttRe = regexp.MustCompile(`time=([0-9.]+) ms`)

// rtts are the round-trip times (ms) of a ping's replies.
func rtts(out string) []float64 {
	var v []float64
	for _, m := range rttRe.FindAllStringSubmatch(out, -1) {
		f, _ := strconv.ParseFloat(m[1], 64)
		v = append(v, f)
	}
	sort.Float64s(v)
	return v
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return -1
	}
	return v[len(v)/2]
}

func received(t *testing.T, out string) (sent, got int) {
	t.Helper()
	m := regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no ping statistics in:\n%s", out)
	}
	sent, _ = strconv.Atoi(m[1])
	got, _ = strconv.Atoi(m[2])
	return sent, got
}

// pingCode pings B from A; the output lands in the global name.
func pingCode(name string, count int, interval string) string {
	return name + ` = A:exec({"ping", "-n", "-c", "` + strconv.Itoa(count) + `", "-i", "` + interval + `", "-W", "2", "10.77.0.2"}).stdout
`
}

// 100 ms of delay on one end shows as about 100 ms more round trip (the
// median of 20 pings), and reads back.
func TestKernelShapeDelay(t *testing.T) {
	needModules(t, "sch_netem")
	s := newShapeLab(t)
	s.do(`A:exec({"ping", "-c1", "-W2", "10.77.0.2"}, {check = true})` + "\n" + pingCode("BASE", 20, "0.05") + `
		LA:shape{delay = "100ms"}
		assert(LA:shape().delay == "100ms", "read back: " .. tostring(LA:shape().delay))
	` + pingCode("DELAYED", 20, "0.05"))
	base, delayed := median(rtts(s.global("BASE"))), median(rtts(s.global("DELAYED")))
	added := delayed - base
	t.Logf("median rtt %.2f ms, with delay = 100ms %.2f ms: %.1f ms added", base, delayed, added)
	if added < 95 || added > 120 {
		t.Errorf("delay = 100ms added %.1f ms to the median round trip, want ~100", added)
	}
}

// 10% loss loses 5-15% of 400 pings.
func TestKernelShapeLoss(t *testing.T) {
	needModules(t, "sch_netem")
	s := newShapeLab(t)
	s.do(`A:exec({"ping", "-c1", "-W2", "10.77.0.2"}, {check = true})
		LA:shape{loss = "10%"}
		assert(LA:shape().loss == "10%", "read back")
	` + pingCode("LOSSY", 400, "0.01"))
	sent, got := received(t, s.global("LOSSY"))
	loss := 100 * float64(sent-got) / float64(sent)
	t.Logf("loss = 10%%: %d of %d lost (%.1f%%)", sent-got, sent, loss)
	if sent != 400 || loss < 5 || loss > 15 {
		t.Errorf("loss = 10%% lost %.1f%% of %d pings, want 5-15%%", loss, sent)
	}
}

// jitter widens the spread of round trips around the delay.
func TestKernelShapeJitter(t *testing.T) {
	needModules(t, "sch_netem")
	s := newShapeLab(t)
	s.do(`LA:shape{delay = "50ms"}
		A:exec({"ping", "-c1", "-W2", "10.77.0.2"}, {check = true})
	` + pingCode("STEADY", 30, "0.05") + `
		LA:shape{delay = "50ms", jitter = "20ms"}
		local sh = LA:shape()
		assert(sh.delay == "50ms" and sh.jitter == "20ms", "read back")
	` + pingCode("JITTERY", 30, "0.05"))
	steady, jittery := rtts(s.global("STEADY")), rtts(s.global("JITTERY"))
	if len(steady) < 25 || len(jittery) < 25 {
		t.Fatalf("too few replies: %d and %d", len(steady), len(jittery))
	}
	// A busy machine only ever adds time, so the spread is read below the
	// delay: without jitter no reply beats 50 ms; with 20 ms of it, uniform,
	// the fastest of 30 is near 30 ms (all 30 above 45 ms: p < 1e-6).
	t.Logf("rtt without jitter %.1f..%.1f ms (median %.1f), with jitter = 20ms %.1f..%.1f ms (median %.1f)",
		steady[0], steady[len(steady)-1], median(steady), jittery[0], jittery[len(jittery)-1], median(jittery))
	if steady[0] < 49.5 {
		t.Errorf("without jitter a reply came back in %.1f ms, under the 50 ms delay", steady[0])
	}
	if jittery[0] > 45 {
		t.Errorf("jitter = 20ms: the fastest of %d replies took %.1f ms, want the spread to reach below 45 ms", len(jittery), jittery[0])
	}
}

// An ns.every timeline toggles a delayed link down and up while ping runs:
// the replies that come back carry the delay, and the down spells lose.
func TestKernelShapeTimeline(t *testing.T) {
	needModules(t, "sch_netem")
	s := newShapeLab(t)
	s.do(`LA:shape{delay = "20ms"}
		A:exec({"ping", "-c1", "-W2", "10.77.0.2"}, {check = true})
		-- ping first (its start needs the link up), the flapping once it runs
		local p = A:spawn({"stdbuf", "-oL", "ping", "-n", "-c", "60", "-i", "0.05", "-W", "2", "10.77.0.2"}, {ready = "^PING"})
		local up = true
		FLIPS = 0
		ns.every(0.5, function()
			if up then LA:down() else LA:up() end
			up, FLIPS = not up, FLIPS + 1
		end)
		FLAPPED = p:wait(120).stdout`)
	out := s.global("FLAPPED")
	sent, got := received(t, out)
	t.Logf("flips %s; %d of %d answered; median rtt %.1f ms", s.global("FLIPS"), got, sent, median(rtts(out)))
	if got < sent/5 || got > sent*4/5 {
		t.Errorf("a link down half the time answered %d of %d pings, want about half", got, sent)
	}
	if m := median(rtts(out)); m < 20 {
		t.Errorf("median rtt %.1f ms on a link with delay = 20ms", m)
	}
}

// The qdisc tree follows the table through every change: netem under a
// tbf with both, changed in place (same handles), the netem dropped or
// the rate dropped as the table says, and each reads back as written.
func TestKernelShapeTree(t *testing.T) {
	needModules(t, "sch_netem")
	s := newShapeLab(t)
	step := func(table, want string, lines ...string) {
		t.Helper()
		s.t.Log("shape" + table)
		s.do(`LA:shape` + table + `
			local sh = LA:shape() or {}
			local keys = {}
			for k, v in pairs(sh) do keys[#keys + 1] = k .. "=" .. tostring(v) end
			table.sort(keys)
			GOT = table.concat(keys, " ")
			TREE = A:exec("tc qdisc show dev eth0").stdout`)
		if got := s.global("GOT"); got != want {
			t.Errorf("%s reads back as %q, want %q", table, got, want)
		}
		tree := s.global("TREE")
		for _, l := range lines {
			if !strings.Contains(tree, l) {
				t.Errorf("%s: the tree lacks %q:\n%s", table, l, tree)
			}
		}
	}
	step(`{rate = "10mbit", delay = "20ms", loss = "1%"}`, "delay=20ms loss=1% rate=10mbit", "tbf 4e53: root", "netem 4e54: parent 4e53:1", "delay 20ms", "loss 1%")
	step(`{rate = "20mbit", delay = "30ms", limit = 50}`, "delay=30ms limit=50 rate=20mbit", "rate 20Mbit", "netem 4e54: parent 4e53:1 limit 50 delay 30ms")
	step(`{rate = "20mbit"}`, "rate=20mbit", "tbf 4e53: root")
	s.do(`A:exec({"ping", "-c1", "-W2", "10.77.0.2"}, {check = true})`) // the tbf's own fifo came back
	step(`{delay = "5ms", reorder = "10%"}`, "delay=5ms reorder=10%", "netem 4e54: root", "reorder 10%")
	step(`{delay = "5ms", duplicate = "2%", corrupt = "0.5%"}`, "corrupt=0.5% delay=5ms duplicate=2%", "duplicate 2%", "corrupt 0.5%")
	step(`{delay = "5ms", duplicate = "1%"}`, "delay=5ms duplicate=1%", "duplicate 1%")
	step(`{delay = "5ms"}`, "delay=5ms", "netem 4e5")
	step(`{rate = "10mbit", delay = "5ms", corrupt = "1%"}`, "corrupt=1% delay=5ms rate=10mbit", "parent 4e53:1", "corrupt 1%")
	step(`{rate = "10mbit", delay = "6ms"}`, "delay=6ms rate=10mbit", "parent 4e53:1", "delay 6ms")
	step(`{rate = "1gbit", delay = "1ms"}`, "delay=1ms rate=1gbit", "tbf 4e53: root", "parent 4e53:1", "delay 1ms")
	step(`(false)`, "", "noqueue")
}

// examples/loss-ramp.lua (it needs netem) runs and reports a rising loss.
func TestKernelShapeLossRampExample(t *testing.T) {
	needModules(t, "sch_netem")
	p := prefix(t)
	cleanupPrefix(t, p)
	stdout, stderr, code := run(t, "", "--lab", p+"-ramp", "../examples/loss-ramp.lua", p)
	t.Log(stdout)
	if code != 0 || !strings.Contains(stdout, "loss = 50%") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

package tests

import (
	"encoding/json"
	"io"
	"math"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
	"github.com/nslua/nslua/luabind"
)

// shapeLab is a lab with a Lua state for the shaping tests: two
// namespaces A and B joined by a veth LA (10.77.0.1) - LB (10.77.0.2).
type shapeLab struct {
	t   *testing.T
	L   *lua.LState
	lab *lab.Lab
	p   string
}

const shapeSetup = `
	A, B = ns.add(P .. "a"), ns.add(P .. "b")
	LA, LB = A:veth("eth0", B, "eth0", {addr = "10.77.0.1/24", peer_addr = "10.77.0.2/24"})
`

func newShapeLab(t *testing.T) *shapeLab {
	p := prefix(t)
	cleanupPrefix(t, p)
	r, err := luabind.StartRun(luabind.RunOptions{Lab: p + "-lab", Log: io.Discard, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	L := r.L
	L.SetGlobal("P", lua.LString(p))
	s := &shapeLab{t: t, L: L, lab: r.Lab, p: p}
	t.Cleanup(func() {
		if errs := r.Close(); len(errs) > 0 {
			t.Errorf("teardown: %v", errs)
		}
	})
	s.do(shapeSetup)
	return s
}

func (s *shapeLab) do(code string) {
	s.t.Helper()
	if err := s.L.DoString(code); err != nil {
		msg := err.Error()
		if e, ok := err.(*lua.ApiError); ok {
			msg = e.Object.String()
		}
		s.t.Fatal(msg)
	}
}

func (s *shapeLab) global(name string) string { return s.L.GetGlobal(name).String() }

// iperfRun is what `iperf3 -J` reports: the rate over the whole run and
// per interval (the omitted start left out).
type iperfRun struct {
	End struct {
		SumReceived struct {
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
	Intervals []struct {
		Sum struct {
			BitsPerSecond float64 `json:"bits_per_second"`
			Omitted       bool    `json:"omitted"`
		} `json:"sum"`
	} `json:"intervals"`
	Error string `json:"error"`
}

func parseIperf(t *testing.T, out string) iperfRun {
	t.Helper()
	var r iperfRun
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Error != "" {
		t.Fatalf("iperf3: %v %s\n%s", err, r.Error, out)
	}
	return r
}

func (r iperfRun) intervals() []float64 {
	var out []float64
	for _, iv := range r.Intervals {
		if !iv.Sum.Omitted {
			out = append(out, iv.Sum.BitsPerSecond)
		}
	}
	return out
}

const iperfServer = `
	SRV = B:spawn({"iperf3", "-s", "-B", "10.77.0.2", "--forceflush"}, {ready = "Server listening"})
	function iperf(secs)
		-- -R: B sends, A receives and reports what arrived each second
		local r = A:exec({"iperf3", "-c", "10.77.0.2", "-R", "-t", tostring(secs), "-O", "1", "-J"}, {timeout = secs + 30})
		assert(r.code == 0 or r.stdout ~= "", "iperf3: " .. r.stderr)
		return r.stdout
	end
`

func within(got, want, frac float64) bool { return math.Abs(got-want) <= frac*want }

// A 10 Mbit/s rate on a veth, measured with iperf3 from B to A, lands
// within 15% of 10 Mbit/s; removing it restores full speed; changing it to
// 20 Mbit/s while iperf3 runs (a timer of the timeline) takes effect on the
// same link (same ifindex, same qdisc).
func TestShapeRateIperf(t *testing.T) {
	if _, err := exec.LookPath("iperf3"); err != nil {
		t.Skip("iperf3 is not installed (tests/packages.txt)")
	}
	s := newShapeLab(t)
	s.do(iperfServer + `
		LB:shape{rate = "10mbit"}
		assert(LB:shape().rate == "10mbit", "read back")
		SHAPED = iperf(4)
		LB:shape(false)
		assert(LB:shape() == nil, "still shaped after shape(false)")
		FULL = iperf(2)
		LB:shape{rate = "10mbit"}
		INDEX = LB.index
		ns.after(4, function() LB:shape{rate = "20mbit"} end)
		CHANGED = iperf(7)
		INDEX_AFTER = B:link("eth0").index
		QDISC = B:exec("tc qdisc show dev eth0").stdout
	`)
	shaped := parseIperf(t, s.global("SHAPED")).End.SumReceived.BitsPerSecond
	full := parseIperf(t, s.global("FULL")).End.SumReceived.BitsPerSecond
	t.Logf("rate 10mbit: %.2f Mbit/s; unshaped: %.0f Mbit/s", shaped/1e6, full/1e6)
	if !within(shaped, 10e6, 0.15) {
		t.Errorf("with rate = 10mbit iperf3 measured %.2f Mbit/s, want 10 +- 15%%", shaped/1e6)
	}
	if full < 10*10e6 {
		t.Errorf("unshaped iperf3 measured %.1f Mbit/s, want well above 10 (100+)", full/1e6)
	}
	iv := parseIperf(t, s.global("CHANGED")).intervals()
	t.Logf("changed mid-run, per second: %v", iv)
	if len(iv) < 7 || !within((iv[0]+iv[1])/2, 10e6, 0.2) || !within((iv[5]+iv[6])/2, 20e6, 0.2) {
		t.Errorf("rate changed from 10 to 20 mbit at 4 s: intervals %v bit/s, want ~10e6 then ~20e6", iv)
	}
	if s.global("INDEX") != s.global("INDEX_AFTER") {
		t.Errorf("the link was recreated: ifindex %s, then %s", s.global("INDEX"), s.global("INDEX_AFTER"))
	}
	if q := s.global("QDISC"); !strings.Contains(q, "tbf 4e53: root") || !strings.Contains(q, "rate 20Mbit") {
		t.Errorf("qdisc after the change: %s", q)
	}
}

func TestShapeLua(t *testing.T) { runLuaTests(t, "shape_test.lua") }

func qdiscOf(t *testing.T, dev string, netns ...string) string {
	t.Helper()
	args := []string{"qdisc", "show", "dev", dev}
	if len(netns) > 0 {
		args = append([]string{"-n", netns[0]}, args...)
	}
	out, err := exec.Command("tc", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("tc %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// Shaping a host link the lab did not make is journaled and undone: by
// the run's teardown, and by `nslua down` for a kept lab. A qdisc someone
// configured on a host link is refused, not replaced.
func TestShapeHostLinkUndone(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	h1, h2 := p+"h1", p+"h2"
	sh(t, "ip link add "+h1+" type veth peer name "+h2)
	t.Cleanup(func() { exec.Command("ip", "link", "del", h1).Run() })

	code := `local l = ns.host():link("` + h1 + `"); l:shape{rate = "1mbit"}
		assert(l:shape().rate == "1mbit"); print("shaped")`
	stdout, stderr, rc := run(t, "", "--lab", p+"-run", "-e", code)
	if rc != 0 || !strings.Contains(stdout, "shaped") {
		t.Fatalf("exit %d: %s %s", rc, stdout, stderr)
	}
	if q := qdiscOf(t, h1); strings.Contains(q, "tbf") {
		t.Errorf("the run ended, its shaping of the host link %s stayed: %s", h1, q)
	}

	stdout, stderr, rc = run(t, "", "--lab", p+"-kept", "--keep", "-e", `ns.host():link("`+h1+`"):shape{rate = "2mbit"}`)
	if rc != 0 {
		t.Fatalf("kept run: exit %d: %s %s", rc, stdout, stderr)
	}
	if q := qdiscOf(t, h1); !strings.Contains(q, "tbf 4e53: root") {
		t.Fatalf("kept lab: no shaping on %s: %s", h1, q)
	}
	stdout, stderr, rc = run(t, "", "down", "-v", p+"-kept")
	if rc != 0 || !strings.Contains(stdout, "removed the shaping of "+h1) {
		t.Errorf("down: exit %d: %s %s", rc, stdout, stderr)
	}
	if q := qdiscOf(t, h1); strings.Contains(q, "tbf") {
		t.Errorf("after down the host link is still shaped: %s", q)
	}

	sh(t, "tc qdisc add dev "+h2+" root handle 1: tbf rate 5mbit burst 5kb limit 10kb")
	_, stderr, rc = run(t, "", "--lab", p+"-refuse", "-e", `ns.host():link("`+h2+`"):shape{rate = "1mbit"}`)
	if rc == 0 || !strings.Contains(stderr, "nslua did not make (tbf 1:)") {
		t.Errorf("shaping over a configured qdisc: exit %d, %s", rc, stderr)
	}
	_, stderr, rc = run(t, "", "--lab", p+"-refuse", "-e", `ns.host():link("`+h2+`"):shape(false)`)
	if rc != 0 {
		t.Errorf("shape(false) over a configured qdisc: exit %d, %s", rc, stderr)
	}
	if q := qdiscOf(t, h2); !strings.Contains(q, "tbf 1: root") || !strings.Contains(q, "5Mbit") {
		t.Errorf("the configured qdisc was touched: %s", q)
	}
}

// `nslua shape` changes a running lab's link from the shell, `nslua
// inspect` shows it (text and JSON), `off` removes it.
func TestShapeCLI(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	r := startNslua(t, "ready", "--lab", p+"-lab", "-e", `
		local a, b = ns.add("`+p+`a"), ns.add("`+p+`b")
		a:veth("eth0", b, "eth0", {shape = {rate = "10mbit"}})
		print("ready"); io.stdout:flush(); ns.wait()`)
	r.waitReady()
	defer func() { r.signal(syscall.SIGTERM); r.wait() }()
	out, stderr, rc := run(t, "", "shape", p+"a", "eth0")
	if rc != 0 || strings.TrimSpace(out) != p+"a eth0: rate=10mbit" {
		t.Errorf("show: exit %d %q %s", rc, out, stderr)
	}
	out, stderr, rc = run(t, "", "shape", p+"a", "eth0", "rate=20mbit", "limit=50")
	if rc != 0 || strings.TrimSpace(out) != p+"a eth0: rate=20mbit limit=50" {
		t.Errorf("set: exit %d %q %s", rc, out, stderr)
	}
	if strings.Contains(stderr, "note:") {
		t.Errorf("a lab's namespace got the note for namespaces of no lab: %s", stderr)
	}
	out, _, _ = run(t, "", "inspect", p+"a")
	if !regexp.MustCompile(`(?m)^ +shape +eth0: rate=20mbit limit=50$`).MatchString(out) {
		t.Errorf("inspect text lacks the shaping:\n%s", out)
	}
	out, _, _ = run(t, "", "inspect", "--json", p+"a")
	if !strings.Contains(out, `"rate": "20mbit"`) || !strings.Contains(out, `"limit": 50`) {
		t.Errorf("inspect --json lacks the shaping:\n%s", out)
	}
	_, stderr, rc = run(t, "", "shape", p+"a", "eth0", "delay=20")
	if rc != 2 || !strings.Contains(stderr, "delay: '20' has no unit; write 20ms") {
		t.Errorf("bad value: exit %d, %s", rc, stderr)
	}
	out, stderr, rc = run(t, "", "shape", p+"a", "eth0", "off")
	if rc != 0 || strings.TrimSpace(out) != p+"a eth0: not shaped" {
		t.Errorf("off: exit %d %q %s", rc, out, stderr)
	}
	if q := qdiscOf(t, "eth0", p+"a"); !strings.Contains(q, "noqueue") {
		t.Errorf("after off: %s", q)
	}
	_, stderr, rc = run(t, "", "shape", p+"a", "nope0")
	if rc != 1 || !strings.Contains(stderr, "no link nope0 in "+p+"a") {
		t.Errorf("missing link: exit %d, %s", rc, stderr)
	}
}

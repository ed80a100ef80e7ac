package tests

import (
	"encoding/json"
	"io"
	"math"
	"os/exec"
	"strings"
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
	l, err := lab.Start(p+"-lab", "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	L := lua.NewState()
	rt := luabind.New(l)
	rt.Out = io.Discard
	rt.Open(L)
	L.SetGlobal("P", lua.LString(p))
	s := &shapeLab{t: t, L: L, lab: l, p: p}
	t.Cleanup(func() {
		for _, err := range rt.RunDefers(L) {
			t.Errorf("defer: %v", err)
		}
		if errs := l.Close(); len(errs) > 0 {
			t.Errorf("teardown: %v", errs)
		}
		L.Close()
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

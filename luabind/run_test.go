package luabind

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "off": 0, "1048576": 1 << 20, "64M": 64 << 20, "2G": 2 << 30, "2GiB": 2 << 30, "512k": 512 << 10,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1X", "M", "99999999999T"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func startTestRun(t *testing.T, o RunOptions) *Run {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: a run starts a real lab")
	}
	p := biPrefix()
	o.Lab, o.Log, o.Out = p+"-lab", io.Discard, io.Discard
	r, err := StartRun(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		if left := biLeftovers(p); len(left) > 0 {
			t.Errorf("left behind: %v", left)
			biForceRemove(p)
		}
	})
	return r
}

// A defer that never ends is stopped at its deadline; the next one runs
// and the teardown goes on.
func TestRunDeferDeadline(t *testing.T) {
	r := startTestRun(t, RunOptions{DeferTimeout: 300 * time.Millisecond})
	err := r.DoString(`
		ran = false
		ns.defer(function() ran = true end)
		ns.defer(function() while true do end end)
		ns.defer(function() ns.sleep(1e6) end)`, "d.lua", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	errs := r.runDefers()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the defers took %v", d)
	}
	if len(errs) != 2 {
		t.Fatalf("%d defer errors, want 2: %v", len(errs), errs)
	}
	for _, err := range errs {
		var de *deferError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "still running after 300ms") {
			t.Errorf("defer error %v, want a deadline", err)
		}
	}
	if r.L.GetGlobal("ran").String() != "true" {
		t.Error("the oldest defer did not run")
	}
}

// os.exit runs the teardown, then ends with its status.
func TestRunOsExit(t *testing.T) {
	code := -1
	r := startTestRun(t, RunOptions{Exit: func(c int) { code = c }})
	err := r.DoString(`ns.defer(function() deferred = true end) os.exit(3)`, "x.lua", nil)
	if err != nil {
		t.Fatal(err)
	}
	if code != 3 || r.L.GetGlobal("deferred").String() != "true" {
		t.Errorf("os.exit: code %d, deferred %v; want 3 after the defers", code, r.L.GetGlobal("deferred"))
	}
}

// An error in a defer makes the run's status 1.
func TestRunDeferErrorFails(t *testing.T) {
	r := startTestRun(t, RunOptions{})
	if err := r.DoString(`ns.defer(function() error("no") end)`, "x.lua", nil); err != nil {
		t.Fatal(err)
	}
	if code := r.Finish(nil); code != 1 {
		t.Errorf("Finish = %d, want 1", code)
	}
}

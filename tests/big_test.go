package tests

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/nslua/nslua/tests/starbench"
)

// bigLeaves is the star of TestBigStar: four bridges' worth of ports
// (starbench joins a bridge per 1000 leaves to br0 with a veth trunk).
const bigLeaves = 4096

// TestBigStar builds the 4096-leaf star with examples/star.lua twice: the
// first is checked, pinged end to end (the last leaf reaches the hub, the
// first leaf the last one) and torn down by nslua itself (SIGTERM); the
// second is killed (SIGKILL) and removed by `nslua down`. Both must leave
// nothing, and nslua's peak RSS must stay under 64 MiB. It takes minutes,
// so it runs only with NSLUA_BIG=1; the figures are in the log (-v).
func TestBigStar(t *testing.T) {
	if os.Getenv("NSLUA_BIG") != "1" {
		t.Skip("NSLUA_BIG=1 runs the 4096-leaf star (minutes)")
	}
	p := prefix(t)
	cleanupPrefix(t, p)
	run, err := startStar(p, bigLeaves)
	if err != nil {
		t.Fatal(err)
	}
	defer run.kill()
	t.Logf("built %d leaves in %v (script %v)", bigLeaves, run.res.Build, run.res.Inner)
	if err := starbench.Check(p, bigLeaves); err != nil {
		t.Fatal(err)
	}
	if err := starbench.Ping(p, bigLeaves-1); err != nil {
		t.Fatal(err)
	}
	pingLeaf(t, p, 0, bigLeaves-1)
	if err := run.stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("teardown %v, peak RSS %.1f MiB", run.res.Teardown, float64(run.res.RSS)/(1<<20))
	if run.res.RSS >= 64<<20 {
		t.Errorf("peak RSS %d bytes, want < 64 MiB", run.res.RSS)
	}
	bigStarDown(t)
}

// bigStarDown builds the star again, kills nslua and times `nslua down`.
func bigStarDown(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	run, err := startStar(p, bigLeaves)
	if err != nil {
		t.Fatal(err)
	}
	run.cmd.Process.Kill()
	<-run.exited
	// The first star's namespaces may still be being freed by the kernel in
	// the background; that work would be timed as part of this down.
	starbench.WaitSettled(t)
	start := time.Now()
	if out, err := exec.Command(nslua, "down", p).CombinedOutput(); err != nil {
		t.Fatalf("nslua down %s: %v: %s", p, err, out)
	}
	t.Logf("nslua down of the killed %d-leaf star: %v", bigLeaves, time.Since(start))
	if left, err := starbench.Leftovers(p); err != nil || len(left) > 0 {
		t.Fatalf("nslua down left %d pins (%v)", len(left), err)
	}
}

// pingLeaf pings leaf to's address from leaf from, up to three tries.
func pingLeaf(t *testing.T, p string, from, to int) {
	t.Helper()
	addr := starbench.LeafAddr(to).Addr().String()
	var out []byte
	var err error
	for try := 0; try < 3; try++ {
		cmd := exec.Command("ip", "netns", "exec", starbench.LeafName(p, from), "ping", "-n", "-c1", "-W2", addr)
		if out, err = cmd.CombinedOutput(); err == nil {
			return
		}
	}
	t.Fatalf("ping %s (leaf %d) from leaf %d: %v: %s", addr, to, from, err, out)
}

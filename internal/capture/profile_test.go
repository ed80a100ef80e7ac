package capture

import (
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestProfileCapture is a developer's tool, not a test: with
// CAPTURE_PROFILE=FILE (as root) it captures an iperf3 UDP flood between
// two namespaces and writes a CPU profile.
func TestProfileCapture(t *testing.T) {
	out := os.Getenv("CAPTURE_PROFILE")
	if out == "" {
		t.Skip("set CAPTURE_PROFILE=FILE to profile a capture")
	}
	sh := func(s string) {
		if b, err := exec.Command("sh", "-c", s).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", s, err, b)
		}
	}
	sh(`ip netns add tprofa; ip netns add tprofb; ip -n tprofa link add v0 type veth peer name v0 netns tprofb
		ip -n tprofa addr add 10.75.0.1/24 dev v0; ip -n tprofb addr add 10.75.0.2/24 dev v0
		ip -n tprofa link set v0 up; ip -n tprofb link set v0 up; ip netns exec tprofb iperf3 -s -D -1 -B 10.75.0.2`)
	defer sh(`for p in $(ip netns pids tprofb); do kill $p; done; ip netns del tprofa; ip netns del tprofb`)
	var targets []Target
	for _, ns := range []string{"tprofa", "tprofb"} {
		fd, _ := unix.Open("/run/netns/"+ns, unix.O_RDONLY, 0)
		targets = append(targets, Target{Name: ns + ":v0", NsFd: fd, Link: "v0"})
	}
	c, err := Start(targets, Options{Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create(out)
	pprof.StartCPUProfile(f)
	time.Sleep(300 * time.Millisecond)
	sh(`ip netns exec tprofa iperf3 -c 10.75.0.2 -t 3 -u -b 0 -l 1400 >/dev/null`)
	pprof.StopCPUProfile()
	c.Stop()
	for _, st := range c.Stats() {
		t.Logf("%+v", st)
	}
}

package starbench

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/nslua/nslua/internal/nsfs"
)

func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: creates network namespaces")
	}
}

// newPrefix returns a fresh random prefix and removes, at the end of the
// test, whatever is left under it, even when the test failed.
func newPrefix(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	prefix := "sb" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		if err := Cleanup(prefix); err != nil {
			tb.Errorf("cleanup: %v", err)
		}
	})
	return prefix
}

func wantNoLeftovers(tb testing.TB, prefix string) {
	tb.Helper()
	left, err := Leftovers(prefix)
	if err != nil {
		tb.Fatal(err)
	}
	if len(left) > 0 {
		tb.Fatalf("left behind after teardown: %v", left)
	}
}

func TestAddresses(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{HubAddr().String(), "10.200.0.1/16"},
		{LeafAddr(0).String(), "10.200.0.2/16"},
		{LeafAddr(254).String(), "10.200.1.0/16"},
		{LeafAddr(MaxLeaves - 1).String(), "10.200.255.254/16"},
	} {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
}

func TestLayoutRefuses(t *testing.T) {
	for _, c := range []struct {
		prefix    string
		n, bridge int
	}{
		{"", 1, PortsPerBridge},
		{"x", 0, PortsPerBridge},
		{"x", MaxLeaves + 1, PortsPerBridge},
		{"x", 10, 1024},
	} {
		if _, err := newLayout(c.prefix, c.n, c.bridge); err == nil {
			t.Errorf("newLayout(%q, %d, %d) accepted", c.prefix, c.n, c.bridge)
		}
	}
	if _, err := DirectStar("", 3); err == nil {
		t.Error("DirectStar with an empty prefix accepted")
	}
}

func TestScriptShape(t *testing.T) {
	l, err := newLayout("x", 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	build, teardown := scriptBuild(l), scriptTeardown(l)
	for _, line := range []string{
		"ip -n xhub link add br2 type bridge",
		"ip -n xhub link set up2 master br2",
		"ip -n xhub link set dn2 master br0",
		"ip -n xhub link add p4 type veth peer name eth0 netns xl4",
		"ip -n xhub link set p4 master br2",
		"ip -n xl4 addr add 10.200.0.6/16 dev eth0",
	} {
		if !strings.Contains(build, line+"\n") {
			t.Errorf("build script lacks %q", line)
		}
	}
	if n := strings.Count(teardown, "ip netns del "); n != 6 {
		t.Errorf("teardown deletes %d namespaces, want 6", n)
	}
	for _, line := range strings.Split(strings.TrimSpace(build), "\n")[1:] {
		if !strings.HasPrefix(line, "ip ") || strings.Contains(line, ";") {
			t.Errorf("build line %q is not one ip command", line)
		}
	}
}

func TestRunScriptReportsFailure(t *testing.T) {
	err := RunScript("echo first >&2\necho why-it-failed >&2\nexit 3\n")
	if err == nil || !strings.Contains(err.Error(), "why-it-failed") {
		t.Fatalf("RunScript of a failing script: %v", err)
	}
	if err := RunScript("true\n"); err != nil {
		t.Fatal(err)
	}
}

// starCase is a star small enough for a test; perBridge 3 gives 8 leaves
// three bridges, so the bridge joins are exercised too.
var starCases = []struct {
	name      string
	perBridge int
}{
	{"one-bridge", PortsPerBridge},
	{"three-bridges", 3},
}

// verifyStar checks the shape and pings the hub from the first and the
// last leaf (the last one sits on the last bridge).
func verifyStar(t *testing.T, l layout) {
	t.Helper()
	if err := check(l); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, l.n - 1} {
		if err := Ping(l.prefix, i); err != nil {
			t.Fatal(err)
		}
	}
}

func TestScriptStar(t *testing.T) {
	requireRoot(t)
	for _, c := range starCases {
		t.Run(c.name, func(t *testing.T) {
			l, err := newLayout(newPrefix(t), 8, c.perBridge)
			if err != nil {
				t.Fatal(err)
			}
			if err := RunScript(scriptBuild(l)); err != nil {
				t.Fatal(err)
			}
			verifyStar(t, l)
			if err := RunScript(scriptTeardown(l)); err != nil {
				t.Fatal(err)
			}
			wantNoLeftovers(t, l.prefix)
		})
	}
}

func TestDirectStar(t *testing.T) {
	requireRoot(t)
	for _, c := range starCases {
		t.Run(c.name, func(t *testing.T) {
			l, err := newLayout(newPrefix(t), 8, c.perBridge)
			if err != nil {
				t.Fatal(err)
			}
			s, err := directStar(l)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Teardown() })
			verifyStar(t, l)
			if err := s.Teardown(); err != nil {
				t.Fatal(err)
			}
			wantNoLeftovers(t, l.prefix)
			if err := s.Teardown(); err != nil {
				t.Fatalf("second teardown: %v", err)
			}
		})
	}
}

// TestCheckSeesDifference makes sure Check is not blind: a star missing one
// address must fail it.
func TestCheckSeesDifference(t *testing.T) {
	requireRoot(t)
	prefix := newPrefix(t)
	s, err := DirectStar(prefix, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Teardown() })
	if err := Check(prefix, 3); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "-n", LeafName(prefix, 1), "addr", "flush", "dev", LeafIfName)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	err = Check(prefix, 3)
	if err == nil || !strings.Contains(err.Error(), LeafAddr(1).String()) {
		t.Fatalf("Check after removing leaf 1's address: %v", err)
	}
	if err := Check(prefix, 4); err == nil {
		t.Fatal("Check of a fourth leaf that does not exist passed")
	}
}

// TestDirectStarUndoesOnFailure makes leaf 3's name taken, so the build
// fails there, and checks that only that foreign pin remains.
func TestDirectStarUndoesOnFailure(t *testing.T) {
	requireRoot(t)
	prefix := newPrefix(t)
	taken := LeafName(prefix, 3)
	if _, err := nsfs.Add(taken, nsfs.AddHooks{}); err != nil {
		t.Fatal(err)
	}
	s, err := DirectStar(prefix, 6)
	if err == nil {
		s.Teardown()
		t.Fatal("DirectStar over a taken leaf name succeeded")
	}
	if !strings.Contains(err.Error(), taken) {
		t.Errorf("error does not name %s: %v", taken, err)
	}
	left, err := Leftovers(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{nsfs.PinPath(taken)}; !slices.Equal(left, want) {
		t.Fatalf("after the failed build: %v, want only %v", left, want)
	}
}

func TestExitedMaxRSS(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	rss, err := ExitedMaxRSS(cmd.ProcessState)
	if err != nil {
		t.Fatal(err)
	}
	if rss < 64<<10 || rss > 1<<30 {
		t.Fatalf("max RSS of sh -c true: %d bytes", rss)
	}
	if _, err := ExitedMaxRSS(nil); err == nil {
		t.Fatal("ExitedMaxRSS(nil) succeeded")
	}
}

package lab

import (
	"strings"
	"testing"
)

// TestCheckLimitsNamesWhatToRaise: a lab far beyond any machine is refused
// with one line per limit, each naming the ulimit or sysctl.
func TestCheckLimitsNamesWhatToRaise(t *testing.T) {
	if err := CheckLimits(Scale{Namespaces: 4, Neighbours: 4}); err != nil {
		t.Fatalf("a lab of 4 namespaces: %v", err)
	}
	err := CheckLimits(Scale{Namespaces: 1 << 24, Neighbours: 1 << 24})
	if err == nil {
		t.Fatal("a lab of 16M namespaces and neighbours passed")
	}
	for _, want := range []string{"ulimit -Hn", "net.ipv4.neigh.default.gc_thresh3=", "net.ipv6.neigh.default.gc_thresh3="} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q: %v", want, err)
		}
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.Contains(line, ": ") {
			t.Errorf("line %q does not say what to raise", line)
		}
	}
}

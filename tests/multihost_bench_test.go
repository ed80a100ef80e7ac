package tests

import (
	"regexp"
	"strconv"
	"testing"
)

// metric reads "NAME SECONDS" from a run's output.
func metric(tb testing.TB, out, name string) float64 {
	tb.Helper()
	m := regexp.MustCompile(`(?m)^` + name + `\t([0-9.e-]+)$`).FindStringSubmatch(out)
	if m == nil {
		tb.Fatalf("no %s in the output: %s", name, out)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// BenchmarkMultiHostStar400 builds a 400-leaf star on the controller
// alone, on one simulated host (over its agent) and on two (half the
// leaves' links crossing hosts as VXLAN pairs). All of it runs on this
// machine: the ratios show the agent's and the tunnels' overhead, not a
// speed-up. s/build is the star's build as the script times it; ns/op is
// the whole run (ssh, handshake, build, check, teardown).
func BenchmarkMultiHostStar400(b *testing.B) {
	p := mhPrefix(b)
	s := multiHost(b, p, 2)
	for _, mode := range []string{"local", "1host", "2hosts"} {
		b.Run(mode, func(b *testing.B) {
			var build float64
			for i := 0; i < b.N; i++ {
				out, errs, code := runHosts(b, s, "--lab", p, "testdata/multihost_star.lua", p, mode, "400")
				if code != 0 {
					b.Fatalf("exit %d: %s", code, errs)
				}
				build += metric(b, out, "build")
			}
			b.ReportMetric(build/float64(b.N), "s/build")
		})
	}
}

// BenchmarkMultiHostLink is the cost of one link between two namespaces
// of one host and of two (a VXLAN pair: an underlay lookup on each host
// and a vxlan made on each), both driven from the controller.
func BenchmarkMultiHostLink(b *testing.B) {
	p := mhPrefix(b)
	s := multiHost(b, p, 2)
	for _, mode := range []string{"same", "cross"} {
		b.Run(mode, func(b *testing.B) {
			var per float64
			for i := 0; i < b.N; i++ {
				out, errs, code := runHosts(b, s, "--lab", p, "testdata/multihost_links.lua", p, mode, "100")
				if code != 0 {
					b.Fatalf("exit %d: %s", code, errs)
				}
				per += metric(b, out, "perlink")
			}
			b.ReportMetric(per/float64(b.N)*1000, "ms/link")
		})
	}
}

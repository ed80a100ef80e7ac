package starbench

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Result is one build and teardown of a star.
type Result struct {
	Build, Teardown time.Duration
	// Inner is the build time a builder measured itself, if it does (nslua:
	// from the script's first line to its last, without the process start).
	Inner time.Duration
	RSS   uint64 // the builder's peak RSS, if it measures it
}

// Builder builds the star of n leaves named after prefix, checks it and
// tears it down, timing build and teardown apart (the check outside the
// timings: a fast wrong build cannot pass for a fast build).
type Builder func(b *testing.B, prefix string, n int) (Result, error)

// Bench is the benchmark loop every builder shares: for each iteration a
// fresh prefix from newPrefix, a wait until the kernel has freed earlier
// namespaces (it does so in the background after a teardown returns, and
// would slow the next build down), the build, a check for leftovers. It
// reports build-ms and teardown-ms per star, plus script-ms and
// peak-rss-MiB (largest over the iterations) when the builder gives them.
func Bench(b *testing.B, n int, newPrefix func(testing.TB) string, build Builder) {
	var total Result
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := newPrefix(b)
		WaitSettled(b)
		b.StartTimer()
		r, err := build(b, p, n)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if left, err := Leftovers(p); err != nil || len(left) > 0 {
			b.Fatalf("star %s: left after teardown: %v %v", p, left, err)
		}
		total.Build += r.Build
		total.Teardown += r.Teardown
		total.Inner += r.Inner
		total.RSS = max(total.RSS, r.RSS)
	}
	b.ReportMetric(MsPer(total.Build, b.N), "build-ms")
	b.ReportMetric(MsPer(total.Teardown, b.N), "teardown-ms")
	if total.Inner > 0 {
		b.ReportMetric(MsPer(total.Inner, b.N), "script-ms")
	}
	if total.RSS > 0 {
		b.ReportMetric(float64(total.RSS)/(1<<20), "peak-rss-MiB")
	}
}

// MsPer is d in milliseconds per one of n iterations.
func MsPer(d time.Duration, n int) float64 {
	return float64(d) / float64(time.Millisecond) / float64(n)
}

// Direct is the kernel's limit: DirectStar, plain Go making the fewest
// netlink requests, in this process.
func Direct(b *testing.B, prefix string, n int) (Result, error) {
	var r Result
	start := time.Now()
	s, err := DirectStar(prefix, n)
	r.Build = time.Since(start)
	if err != nil {
		return r, err
	}
	b.StopTimer()
	if err := Check(prefix, n); err != nil {
		s.Teardown()
		return r, fmt.Errorf("direct star: %w", err)
	}
	b.StartTimer()
	start = time.Now()
	err = s.Teardown()
	r.Teardown = time.Since(start)
	return r, err
}

// Script is the hand-written way: one `ip` command per operation.
func Script(b *testing.B, prefix string, n int) (Result, error) {
	var r Result
	build, teardown := ScriptStar(prefix, n)
	start := time.Now()
	err := RunScript(build)
	r.Build = time.Since(start)
	if err != nil {
		RunScript(teardown)
		return r, err
	}
	b.StopTimer()
	if err := Check(prefix, n); err != nil {
		RunScript(teardown)
		return r, fmt.Errorf("script star: %w", err)
	}
	b.StartTimer()
	start = time.Now()
	err = RunScript(teardown)
	r.Teardown = time.Since(start)
	return r, err
}

// WaitSettled waits until the kernel has stopped freeing namespaces (the
// live count has not fallen for a second), up to 30 s: other programs on
// the machine may be making namespaces all along.
func WaitSettled(tb testing.TB) {
	tb.Helper()
	last, err := liveNamespaces()
	if err != nil {
		tb.Logf("not waiting for the kernel to free namespaces: %v", err)
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	steady := time.Now()
	for time.Since(steady) < time.Second {
		if time.Now().After(deadline) {
			tb.Logf("namespace count still falling after 30 s (now %d): measuring anyway", last)
			return
		}
		time.Sleep(100 * time.Millisecond)
		now, err := liveNamespaces()
		if err != nil {
			tb.Fatal(err)
		}
		if now < last {
			steady = time.Now()
		}
		last = now
	}
}

// liveNamespaces is the active object count of the net_namespace slab
// cache: every network namespace not yet freed, pinned or not.
func liveNamespaces() (int, error) {
	data, err := os.ReadFile("/proc/slabinfo")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "net_namespace" {
			return strconv.Atoi(f[1])
		}
	}
	return 0, errors.New("/proc/slabinfo has no net_namespace line")
}

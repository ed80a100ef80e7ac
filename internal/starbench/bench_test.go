package starbench

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Each iteration builds a star and tears it down; build-ms and
// teardown-ms are the means per iteration, measured apart. Each star is
// checked (outside the timings) so that a fast wrong build cannot pass for a
// fast build. Before timing, the benchmark waits for the kernel to finish
// destroying earlier namespaces, which it does in the background after the
// teardown returns and which would otherwise slow the next build down.

func BenchmarkScriptStar100(b *testing.B) { benchScript(b, 100) }
func BenchmarkScriptStar500(b *testing.B) { benchScript(b, 500) }

func BenchmarkDirectStar100(b *testing.B)  { benchDirect(b, 100) }
func BenchmarkDirectStar500(b *testing.B)  { benchDirect(b, 500) }
func BenchmarkDirectStar1000(b *testing.B) { benchDirect(b, 1000) }

// builder builds one star and returns its teardown.
type builder func(prefix string, n int) (teardown func() error, err error)

func scriptBuilder(prefix string, n int) (func() error, error) {
	build, teardown := ScriptStar(prefix, n)
	if err := RunScript(build); err != nil {
		return nil, err
	}
	return func() error { return RunScript(teardown) }, nil
}

func directBuilder(prefix string, n int) (func() error, error) {
	s, err := DirectStar(prefix, n)
	if err != nil {
		return nil, err
	}
	return s.Teardown, nil
}

func benchScript(b *testing.B, n int) {
	benchStar(b, n, scriptBuilder, false)
}

// benchDirect also reports the test process's peak RSS during a build and
// teardown, as peak-rss-MiB (the largest over the iterations).
func benchDirect(b *testing.B, n int) {
	benchStar(b, n, directBuilder, true)
}

func benchStar(b *testing.B, n int, build builder, rss bool) {
	requireRoot(b)
	var buildTime, teardownTime time.Duration
	var peak uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		prefix := newPrefix(b)
		waitNetnsSettled(b)
		if rss {
			if err := ResetPeakRSS(os.Getpid()); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()

		start := time.Now()
		teardown, err := build(prefix, n)
		built := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := Check(prefix, n); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		tornDown := time.Now()
		err = teardown()
		buildTime += built.Sub(start)
		teardownTime += time.Since(tornDown)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		wantNoLeftovers(b, prefix)
		if rss {
			p, err := PeakRSS(os.Getpid())
			if err != nil {
				b.Fatal(err)
			}
			peak = max(peak, p)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(msPerOp(buildTime, b.N), "build-ms")
	b.ReportMetric(msPerOp(teardownTime, b.N), "teardown-ms")
	if rss {
		b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
	}
}

func msPerOp(d time.Duration, n int) float64 {
	return float64(d) / float64(time.Millisecond) / float64(n)
}

// waitNetnsSettled waits until the number of live network namespaces (the
// net_namespace slab's active objects) stops falling, so that the
// destruction of earlier stars does not compete with the next build. It
// gives up after a minute: others on the machine may be creating namespaces.
func waitNetnsSettled(tb testing.TB) {
	tb.Helper()
	last, err := liveNetns()
	if err != nil {
		tb.Logf("not waiting for namespace destruction: %v", err)
		return
	}
	deadline := time.Now().Add(time.Minute)
	for stable := 0; stable < 10 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		now, err := liveNetns()
		if err != nil {
			tb.Fatal(err)
		}
		if now < last {
			stable = 0
		} else {
			stable++
		}
		last = now
	}
}

// liveNetns reads the active network namespace objects from /proc/slabinfo.
func liveNetns() (int, error) {
	f, err := os.Open("/proc/slabinfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && fields[0] == "net_namespace" {
			return strconv.Atoi(fields[1])
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("/proc/slabinfo has no net_namespace cache")
}

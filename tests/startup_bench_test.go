package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// emptyMain is the floor of any Go program's start: package main with
// nothing in it, built static (CGO_ENABLED=0).
const emptyMain = "package main\n\nfunc main() {}\n"

// buildEmpty builds emptyMain into a temporary directory.
func buildEmpty(b *testing.B) string {
	dir := b.TempDir()
	for name, text := range map[string]string{"main.go": emptyMain, "go.mod": "module empty\n\ngo 1.22\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	out := filepath.Join(dir, "empty")
	build := exec.Command("go", "build", "-o", out, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build the empty Go program: %v: %s", err, msg)
	}
	return out
}

// BenchmarkStartupRatio: `nslua -e ”` (a whole run: lab lock, journal,
// teardown of nothing) against an empty static Go binary, taking turns so
// that both see the same load; reports each one's mean in ms and the ratio
// (the target is <= 2).
func BenchmarkStartupRatio(b *testing.B) {
	empty := buildEmpty(b)
	var tN, tE time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		runOK(b, nslua, "-e", "")
		tN += time.Since(start)
		start = time.Now()
		runOK(b, empty)
		tE += time.Since(start)
	}
	b.ReportMetric(float64(tN)/float64(time.Millisecond)/float64(b.N), "nslua-ms")
	b.ReportMetric(float64(tE)/float64(time.Millisecond)/float64(b.N), "empty-ms")
	b.ReportMetric(float64(tN)/float64(tE), "ratio")
}

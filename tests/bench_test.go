package tests

// The benchmarks of the README: how fast nslua builds and tears down a star, set
// against its peers in the same run, plus exec and start-up costs. They
// run only with -bench (`tests/bench` runs them all and prints the table of
// the README); the one test here, TestStarExample, is light and checks that
// examples/star.lua builds the star the baselines build, so that the
// comparison is like for like.
//
// A star is the one of tests/starbench: a hub namespace with a bridge,
// N leaves each with a veth into it and an IPv4 address, everything up.
// Each builder is timed apart on build and on teardown, and each star is
// checked with starbench.Check while it is up (outside the timings): a fast
// wrong build cannot pass for a fast build. A teardown ends when every pin
// is gone; the kernel frees the namespaces themselves in the background
// afterwards, so before each build the benchmark waits for the count of
// live namespaces to settle, and no builder pays for its predecessor.

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nslua/nslua/tests/starbench"
)

// starExample is the nslua star, relative to this package's directory.
const starExample = "../examples/star.lua"

// starSizes are the N of BenchmarkStar. The ip script runs only at the
// smaller sizes: at 1000 it would take minutes (7000 commands, each slower
// as the star grows).
var starSizes = []int{100, 500, 1000, 2000, 4096}

const scriptMaxN = 500

// BenchmarkStar/{nslua,direct,script}/N=n: build-ms and teardown-ms per
// star; nslua adds script-ms (the build as the script timed it) and
// peak-rss-MiB (largest over the iterations).
func BenchmarkStar(b *testing.B) {
	builders := []struct {
		name  string
		build starbench.Builder
	}{
		{"nslua", nsluaStar},
		{"direct", starbench.Direct},
		{"script", starbench.Script},
	}
	for _, bl := range builders {
		b.Run(bl.name, func(b *testing.B) {
			for _, n := range starSizes {
				if bl.name == "script" && n > scriptMaxN {
					continue
				}
				b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { starbench.Bench(b, n, benchPrefix, bl.build) })
			}
		})
	}
}

// benchPrefix is a fresh prefix removed again when the benchmark ends.
func benchPrefix(tb testing.TB) string {
	p := prefix(tb)
	cleanupPrefix(tb, p)
	return p
}

// nsluaStar runs examples/star.lua with "wait": build is from starting the
// process to reading its "built" line (start-up included), teardown from
// the SIGTERM that ends its ns.wait() to its exit, when every pin must be
// gone.
func nsluaStar(b *testing.B, prefix string, n int) (starbench.Result, error) {
	run, err := startStar(prefix, n)
	if err != nil {
		return starbench.Result{}, err
	}
	defer run.kill()
	b.StopTimer()
	if err := starbench.Check(prefix, n); err != nil {
		return starbench.Result{}, fmt.Errorf("nslua star: %w", err)
	}
	b.StartTimer()
	if err := run.stop(); err != nil {
		return starbench.Result{}, err
	}
	return run.res, nil
}

// starRun is a running examples/star.lua.
type starRun struct {
	prefix string
	cmd    *exec.Cmd
	out    *lineWriter
	stderr *strings.Builder
	exited chan struct{} // closed once cmd.Wait has returned, into waitErr
	res    starbench.Result

	waitErr error
}

var builtLine = regexp.MustCompile(`^built (\d+) leaves in (\d+) ms$`)

// startStar starts the star of n leaves in lab prefix and returns once it
// is built. The lab is named after the prefix so that runs never share a
// lock or journal.
func startStar(prefix string, n int) (*starRun, error) {
	r := &starRun{
		prefix: prefix,
		out:    &lineWriter{lines: make(chan string, 1)},
		stderr: &strings.Builder{},
		exited: make(chan struct{}),
	}
	r.cmd = exec.Command(nslua, "--lab", prefix, starExample, strconv.Itoa(n), prefix, "wait")
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.stderr
	start := time.Now()
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", starExample, err)
	}
	go func() {
		r.waitErr = r.cmd.Wait()
		close(r.exited)
	}()
	var line string
	select {
	case line = <-r.out.lines:
		r.res.Build = time.Since(start)
	case <-r.exited:
		return nil, fmt.Errorf("nslua star of %d exited before building it: %v, stderr: %s", n, r.waitErr, r.stderr)
	}
	m := builtLine.FindStringSubmatch(line)
	if m == nil || m[1] != strconv.Itoa(n) {
		r.kill()
		return nil, fmt.Errorf("nslua star of %d: first line %q, want \"built %d leaves in X ms\"", n, line, n)
	}
	ms, _ := strconv.Atoi(m[2])
	r.res.Inner = time.Duration(ms) * time.Millisecond
	return r, nil
}

// stop ends ns.wait() with SIGTERM and times the teardown until exit, then
// checks that it exited 0 with every pin and its journal gone.
func (r *starRun) stop() error {
	start := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal nslua: %w", err)
	}
	<-r.exited
	r.res.Teardown = time.Since(start)
	if r.waitErr != nil {
		return fmt.Errorf("nslua star %s: %v, stderr: %s", r.prefix, r.waitErr, r.stderr)
	}
	if left, err := starbench.Leftovers(r.prefix); err != nil || len(left) > 0 {
		return fmt.Errorf("nslua star %s exited leaving %v %v", r.prefix, left, err)
	}
	if _, err := os.Stat(filepath.Join("/run/nslua", r.prefix)); err == nil {
		return fmt.Errorf("nslua star %s exited leaving its journal /run/nslua/%s", r.prefix, r.prefix)
	}
	var err error
	r.res.RSS, err = starbench.ExitedMaxRSS(r.cmd.ProcessState)
	return err
}

// kill is the way out on failure: SIGTERM, which tears the star down, and
// SIGKILL if that takes over a minute.
func (r *starRun) kill() {
	select {
	case <-r.exited:
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(time.Minute):
		r.cmd.Process.Kill()
		<-r.exited
	}
}

// lineWriter is the star's standard output: it hands the first line to
// lines as soon as it is complete, and drops the rest.
type lineWriter struct {
	mu    sync.Mutex
	buf   []byte
	sent  bool
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sent {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
		w.sent = true
		w.lines <- string(w.buf[:i])
	}
	return len(p), nil
}

// starLeaves is the size of TestStarExample's star: small by default;
// tests/bench runs it with -star.leaves 1001 to check the second bridge.
var starLeaves = flag.Int("star.leaves", 3, "leaves of the star TestStarExample builds")

// TestStarExample checks that examples/star.lua builds what
// starbench.Check expects, that its last leaf reaches the hub, and that it
// leaves nothing once stopped.
func TestStarExample(t *testing.T) {
	n := *starLeaves
	p := prefix(t)
	cleanupPrefix(t, p)
	run, err := startStar(p, n)
	if err != nil {
		t.Fatal(err)
	}
	defer run.kill()
	if err := starbench.Check(p, n); err != nil {
		t.Fatal(err)
	}
	if err := starbench.Ping(p, n-1); err != nil {
		t.Fatal(err)
	}
	if err := run.stop(); err != nil {
		t.Fatal(err)
	}
}

// execNamespace makes a plain namespace with `ip netns add`, so that
// `ip netns exec` and `nslua exec` find the same thing: no /etc/netns entry.
func execNamespace(b *testing.B) string {
	p := prefix(b)
	cleanupPrefix(b, p)
	name := p + "x"
	sh(b, "ip netns add "+name)
	b.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	return name
}

// runOK runs a command that must succeed.
func runOK(b *testing.B, path string, args ...string) {
	if out, err := exec.Command(path, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s %s: %v: %s", path, strings.Join(args, " "), err, out)
	}
}

func lookPath(b *testing.B, name string) string {
	path, err := exec.LookPath(name)
	if err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkExec: one `nslua exec NS -- true` against one
// `ip netns exec NS true`, each a new process from here; `true` alone is
// the floor, the cost of starting any process.
func BenchmarkExec(b *testing.B) {
	name := execNamespace(b)
	ip, tru := lookPath(b, "ip"), lookPath(b, "true")
	b.Run("nslua", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			runOK(b, nslua, "exec", name, "--", "true")
		}
	})
	b.Run("ip", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			runOK(b, ip, "netns", "exec", name, "true")
		}
	})
	b.Run("true", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			runOK(b, tru)
		}
	})
}

// luaExecLoop runs n:exec{"true"} arg[2] times in a namespace of its own,
// after one untimed exec (the first sets up the namespace's exec thread),
// and prints the mean per exec in ns.
const luaExecLoop = `
local n, k = ns.add(arg[1]), tonumber(arg[2])
n:exec({"true"}, {check = true})
local t0 = ns.clock()
for _ = 1, k do n:exec({"true"}, {check = true}) end
print(string.format("%.0f", (ns.clock() - t0) * 1e9 / k))
`

// BenchmarkLuaExec: n:exec from a running script (one nslua process, b.N
// execs, ns/op as the script timed them) against a program running
// `ip netns exec NS true` b.N times.
func BenchmarkLuaExec(b *testing.B) {
	b.Run("nslua", func(b *testing.B) {
		p := prefix(b)
		cleanupPrefix(b, p)
		out, err := exec.Command(nslua, "--lab", p, "-e", luaExecLoop, p+"x", strconv.Itoa(b.N)).CombinedOutput()
		if err != nil {
			b.Fatalf("n:exec loop: %v: %s", err, out)
		}
		perExec, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil {
			b.Fatalf("n:exec loop printed %q", out)
		}
		b.ReportMetric(perExec, "ns/op")
	})
	b.Run("ip", func(b *testing.B) {
		name := execNamespace(b)
		ip := lookPath(b, "ip")
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			runOK(b, ip, "netns", "exec", name, "true")
		}
	})
}

// BenchmarkStartup: nslua -e with empty code, a whole run (lab lock,
// journal, teardown of nothing) from exec to exit. Its lab, e-PID, must be gone after.
func BenchmarkStartup(b *testing.B) {
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(nslua, "-e", "")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("nslua -e '': %v: %s", err, out)
		}
		lab := fmt.Sprintf("/run/nslua/e-%d", cmd.Process.Pid)
		if _, err := os.Stat(lab); err == nil {
			b.Fatalf("nslua -e '' left %s", lab)
		}
	}
}

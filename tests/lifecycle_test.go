package tests

// Lab lifecycle: whatever way a run ends, what it made is gone and
// what it did not make is untouched. Each test drives the real binary and
// compares the machine before and after: pins, /etc/netns (names and
// contents), /run/nslua, host links (and their masters), mount points, and
// processes (the scripts mark theirs with LCTEST=PREFIX in the environment,
// which children inherit).

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// labRun is a running nslua whose stdout is read line by line.
type labRun struct {
	t      *testing.T
	cmd    *exec.Cmd
	start  time.Time
	ready  chan struct{} // closed at the ready line
	eof    chan struct{} // closed when stdout is closed
	mu     sync.Mutex
	lines  []string
	stderr bytes.Buffer
	waited bool
	code   int
}

// startNslua starts nslua with args; readyLine is the stdout line that
// means the lab is built.
func startNslua(t *testing.T, readyLine string, args ...string) *labRun {
	t.Helper()
	r := &labRun{t: t, ready: make(chan struct{}), eof: make(chan struct{})}
	r.cmd = exec.Command(nslua, args...)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stdout = pw
	r.cmd.Stderr = &lockedWriter{mu: &r.mu, w: &r.stderr}
	r.start = time.Now()
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start nslua %v: %v", args, err)
	}
	pw.Close()
	go r.read(pr, readyLine)
	t.Cleanup(func() { // a failed test must not leave nslua running
		if !r.waited {
			r.cmd.Process.Kill()
			r.cmd.Wait()
		}
	})
	return r
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

func (r *labRun) read(pr *os.File, readyLine string) {
	defer close(r.eof)
	defer pr.Close()
	sc := bufio.NewScanner(pr)
	seen := false
	for sc.Scan() {
		r.mu.Lock()
		r.lines = append(r.lines, sc.Text())
		r.mu.Unlock()
		if sc.Text() == readyLine && !seen {
			seen = true
			close(r.ready)
		}
	}
}

// waitReady waits for the ready line; it fails the test if nslua exits
// or takes too long first.
func (r *labRun) waitReady() {
	r.t.Helper()
	select {
	case <-r.ready:
	case <-r.eof:
		code := r.wait()
		r.t.Fatalf("nslua exited (%d) before it was ready:\nstdout:\n%s\nstderr:\n%s", code, r.stdout(), r.stderrText())
	case <-time.After(30 * time.Second):
		r.t.Fatalf("nslua not ready after 30 s:\nstdout:\n%s\nstderr:\n%s", r.stdout(), r.stderrText())
	}
}

func (r *labRun) signal(sig syscall.Signal) {
	r.t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.t.Fatalf("signal %v to nslua: %v", sig, err)
	}
}

// wait waits for nslua to exit and returns its status (-1: killed by a
// signal). Its stdout must close too: a process that inherited it would
// be one nslua left behind.
func (r *labRun) wait() int {
	r.t.Helper()
	if r.waited {
		return r.code
	}
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		r.waited = true
		r.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else if err != nil {
			r.t.Fatalf("wait for nslua: %v", err)
		}
	case <-time.After(30 * time.Second):
		r.t.Fatalf("nslua did not exit within 30 s; stderr:\n%s", r.stderrText())
	}
	select {
	case <-r.eof:
	case <-time.After(5 * time.Second):
		r.t.Errorf("nslua's stdout is still open after it exited: something it started holds it")
	}
	return r.code
}

func (r *labRun) stdout() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

func (r *labRun) stderrText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

// lcNumbers returns N from every stdout line "key N".
func lcNumbers(t *testing.T, stdout, key string) []uint64 {
	t.Helper()
	var out []uint64
	for _, line := range strings.Split(stdout, "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatalf("bad line %q", line)
			}
			out = append(out, n)
		}
	}
	return out
}

func pidsOf(t *testing.T, stdout string) []int {
	var pids []int
	for _, n := range lcNumbers(t, stdout, "pid") {
		pids = append(pids, int(n))
	}
	return pids
}

// lcSnapshot describes everything named with prefix p that a lab can leave.
func lcSnapshot(t *testing.T, p string) []string {
	t.Helper()
	var s []string
	for _, dir := range []string{"/run/netns", "/run/nslua"} {
		matches, _ := filepath.Glob(filepath.Join(dir, p+"*"))
		s = append(s, matches...)
	}
	roots, _ := filepath.Glob("/etc/netns/" + p + "*")
	for _, root := range roots {
		filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			switch {
			case err != nil:
				s = append(s, path+" (unreadable)")
			case d.IsDir():
				s = append(s, path+"/")
			default:
				data, _ := os.ReadFile(path)
				s = append(s, fmt.Sprintf("%s = %q", path, data))
			}
			return nil
		})
	}
	s = append(s, lcHostLinks(t, p)...)
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.Contains(line, p) {
			s = append(s, "mount "+f[4])
		}
	}
	slices.Sort(s)
	return s
}

// lcHostLinks lists the host's links named with p, with their masters.
func lcHostLinks(t *testing.T, p string) []string {
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatalf("ip link show: %v", err)
	}
	var links []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[1], p) {
			continue
		}
		desc := "link " + strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0]
		if i := slices.Index(f, "master"); i > 0 && i+1 < len(f) {
			desc += " master " + f[i+1]
		}
		links = append(links, desc)
	}
	return links
}

func lcSameState(t *testing.T, what string, before, after []string) {
	t.Helper()
	var added, removed []string
	for _, s := range after {
		if !slices.Contains(before, s) {
			added = append(added, s)
		}
	}
	for _, s := range before {
		if !slices.Contains(after, s) {
			removed = append(removed, s)
		}
	}
	if len(added) > 0 {
		t.Errorf("%s: left behind:\n  %s", what, strings.Join(added, "\n  "))
	}
	if len(removed) > 0 {
		t.Errorf("%s: removed although the lab did not make it:\n  %s", what, strings.Join(removed, "\n  "))
	}
}

// lcRunning: the process exists and is not a zombie.
func lcRunning(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(data, ')')
	return i > 0 && i+2 < len(data) && data[i+2] != 'Z'
}

func lcHasEnv(pid int, kv string) bool {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	return slices.Contains(strings.Split(string(data), "\x00"), kv)
}

// lcMarked lists the live processes whose environment holds kv.
func lcMarked(kv string) []int {
	dirs, _ := os.ReadDir("/proc")
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err == nil && lcRunning(pid) && lcHasEnv(pid, kv) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// cleanupMarked kills, after the test, the processes marked LCTEST=p that
// are still running (checkProcsGone has already reported them): nothing
// else would find them once their namespaces are unpinned.
func cleanupMarked(t *testing.T, p string) {
	t.Cleanup(func() {
		for _, pid := range lcMarked("LCTEST=" + p) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// checkMarked: before teardown, every pid runs and carries the mark, so
// that finding none afterwards means something.
func checkMarked(t *testing.T, p string, pids []int) {
	t.Helper()
	if len(pids) == 0 {
		t.Fatal("the script printed no pids")
	}
	for _, pid := range pids {
		if !lcRunning(pid) || !lcHasEnv(pid, "LCTEST="+p) {
			t.Fatalf("pid %d is not running with LCTEST=%s before teardown", pid, p)
		}
	}
}

// checkProcsGone fails if a process the lab started runs on, or if any
// process is inside, or holds open, one of the lab's namespaces (which
// would keep it alive, unpinned and invisible).
func checkProcsGone(t *testing.T, p string, pids []int, inos []uint64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second) // SIGKILLed ones may take a moment
	var left []string
	for {
		left = left[:0]
		for _, pid := range pids {
			if lcRunning(pid) {
				left = append(left, fmt.Sprintf("pid %d (started by the lab)", pid))
			}
		}
		for _, pid := range lcMarked("LCTEST=" + p) {
			left = append(left, fmt.Sprintf("pid %d (has LCTEST=%s)", pid, p))
		}
		left = append(left, lcHolders(inos)...)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("processes left: %s", strings.Join(left, ", "))
	}
}

// lcHolders lists processes in, or with an open file of, the namespaces inos.
func lcHolders(inos []uint64) []string {
	if len(inos) == 0 {
		return nil
	}
	var out []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || !lcRunning(pid) {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &st) == nil && slices.Contains(inos, st.Ino) {
			out = append(out, fmt.Sprintf("pid %d inside namespace %d", pid, st.Ino))
		}
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		for _, fd := range fds {
			target, _ := os.Readlink(fd)
			for _, ino := range inos {
				if target == fmt.Sprintf("net:[%d]", ino) {
					out = append(out, fmt.Sprintf("pid %d holds namespace %d open (%s)", pid, ino, fd))
				}
			}
		}
	}
	return out
}

// errorLine is the line of lifecycle_lab.lua that raises in mode "error".
func errorLine(t *testing.T) int {
	data, err := os.ReadFile("lifecycle_lab.lua")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, `error("boom on purpose")`) {
			return i + 1
		}
	}
	t.Fatal("lifecycle_lab.lua has no boom line")
	return 0
}

// The full lab ended each way leaves nothing: normal end, Lua error,
// SIGINT/SIGTERM/SIGHUP during a long exec, a signal ending ns.wait, and
// kill -9 followed by `nslua down` (twice).
func TestLifecycleEndings(t *testing.T) {
	cases := []struct {
		name   string
		mode   string
		sig    syscall.Signal // 0: the script ends by itself
		code   int
		stderr string
	}{
		{"NormalEnd", "end", 0, 0, ""},
		{"LuaError", "error", 0, 1, fmt.Sprintf("lifecycle_lab.lua:%d: boom on purpose", errorLine(t))},
		{"SIGINT", "exec", syscall.SIGINT, 130, "interrupt"},
		{"SIGTERM", "exec", syscall.SIGTERM, 143, "terminated"},
		{"SIGHUP", "exec", syscall.SIGHUP, 129, "hangup"},
		{"SignalEndsWait", "wait", syscall.SIGTERM, 0, ""},
		{"Kill9ThenDown", "wait", syscall.SIGKILL, -1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := prefix(t)
			cleanupPrefix(t, p)
			cleanupMarked(t, p)
			cleanupMarked(t, p)
			lab := p + "-lab"
			before := lcSnapshot(t, p)
			deferFile := filepath.Join(t.TempDir(), "deferred")
			r := startNslua(t, "ready", "--lab", lab, "lifecycle_lab.lua", p, tc.mode, deferFile)
			r.waitReady()
			pids, inos := pidsOf(t, r.stdout()), lcNumbers(t, r.stdout(), "ino")
			if len(inos) != 5 {
				t.Fatalf("the script printed %d namespace inodes, want 5", len(inos))
			}
			if tc.sig != 0 {
				checkMarked(t, p, pids)
				r.signal(tc.sig)
			}
			code := r.wait()
			stderr := r.stderrText()
			if code != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
			if tc.code == 1 && !strings.HasPrefix(stderr, "nslua: ") {
				t.Errorf("the error is not reported as `nslua: ...`:\n%s", stderr)
			}
			switch tc.sig {
			case syscall.SIGKILL:
				checkDown(t, lab, p, pids)
			case syscall.SIGTERM:
				if tc.mode == "wait" && !strings.Contains(r.stdout(), "waited") {
					t.Errorf("ns.wait did not return on the signal; stdout:\n%s", r.stdout())
				}
			}
			if tc.sig != syscall.SIGKILL {
				checkDeferred(t, deferFile)
			}
			lcSameState(t, "after "+tc.name, before, lcSnapshot(t, p))
			checkProcsGone(t, p, pids, inos)
		})
	}
}

// checkDeferred: ns.defer's function ran, while the namespaces still
// existed (before the built-in teardown steps).
func checkDeferred(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("the ns.defer function did not run: %v", err)
		return
	}
	if got := strings.TrimSpace(string(data)); got != "deferred, 5 pinned" {
		t.Errorf("ns.defer function wrote %q, want %q (it runs before the namespaces go)", got, "deferred, 5 pinned")
	}
}

// checkDown runs `nslua down LAB` on a crashed or kept lab of
// lifecycle_lab.lua, checks that it says what it removed, and that a
// second down succeeds with nothing to do.
func checkDown(t *testing.T, lab, p string, pids []int) {
	t.Helper()
	out, stderr, code := run(t, "", "down", "-v", lab)
	if code != 0 {
		t.Fatalf("nslua down %s: exit %d\n%s%s", lab, code, out, stderr)
	}
	want := []string{"removed link " + p + "h1", "removed link " + p + "hbr", "removed /etc/netns/" + p + "n1/lc/deep/file.conf"}
	for i := 1; i <= 5; i++ {
		want = append(want, fmt.Sprintf("removed namespace %sn%d", p, i), fmt.Sprintf("removed /etc/netns/%sn%d/hosts", p, i))
	}
	for _, pid := range pids {
		want = append(want, fmt.Sprintf("stopped pid %d ", pid))
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("nslua down's report lacks %q:\n%s", w, out)
		}
	}
	out, stderr, code = run(t, "", "down", lab)
	if code != 1 || !strings.Contains(stderr, "no such lab") {
		t.Errorf("second nslua down %s: exit %d, want 1 and \"no such lab\":\n%s%s", lab, code, out, stderr)
	}
}

// kill -9 at random moments of a 50-namespace build, each followed by
// `nslua down`: nothing is left, every time.
func TestLifecycleKill9DuringBuild(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	cleanupMarked(t, p)
	lab := p + "-lab"
	before := lcSnapshot(t, p)
	mark := "LCTEST=" + p

	// A full build first, ended by SIGTERM: how long the build takes
	// bounds the random moments.
	r := startNslua(t, "built", "--lab", lab, "lifecycle_build.lua", p)
	r.waitReady()
	build := time.Since(r.start)
	if n := len(lcMarked(mark)); n != 10 {
		t.Errorf("%d daemons run after the build, want 10", n)
	}
	r.signal(syscall.SIGTERM)
	if code := r.wait(); code != 0 {
		t.Fatalf("the full build ended with %d:\n%s", code, r.stderrText())
	}
	lcSameState(t, "after the full build", before, lcSnapshot(t, p))
	t.Logf("a 50-namespace build takes %v", build.Round(time.Millisecond))

	var pinsAtKill []int
	for i := range 20 {
		delay := rand.N(build + 50*time.Millisecond)
		r := startNslua(t, "built", "--lab", lab, "lifecycle_build.lua", p)
		time.Sleep(delay)
		r.signal(syscall.SIGKILL)
		r.wait()
		pins, _ := filepath.Glob("/run/netns/" + p + "*")
		pinsAtKill = append(pinsAtKill, len(pins))
		out, stderr, code := run(t, "", "down", lab)
		if code == 1 && strings.Contains(stderr, "no such lab") {
			code = 0 // killed before it took the lab's lock: there is none
		}
		if code != 0 {
			t.Fatalf("kill %d (after %v, %d pins): nslua down: exit %d\n%s%s", i, delay, len(pins), code, out, stderr)
		}
		what := fmt.Sprintf("kill %d (after %v, %d pins)", i, delay.Round(time.Millisecond), len(pins))
		lcSameState(t, what, before, lcSnapshot(t, p))
		checkProcsGone(t, p, nil, nil)
		if t.Failed() {
			t.Fatalf("%s: stopping; down said:\n%s", what, out)
		}
	}
	t.Logf("pins at the 20 kills: %v", pinsAtKill)
}

// What the lab did not make survives its teardown, by the run itself and
// by `nslua down` after kill -9: a namespace made by `ip netns add` (and a
// process of its own in it), /etc/netns files the lab did not write (one
// it overwrote comes back), an /etc/netns directory that existed, and a
// host link it enslaved to its bridge.
func TestLifecycleForeignSurvives(t *testing.T) {
	for _, how := range []string{"NormalEnd", "Kill9ThenDown"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			p := prefix(t)
			cleanupPrefix(t, p)
			cleanupMarked(t, p)
			cleanupMarked(t, p)
			x := p + "x"
			foreign := setupForeign(t, p)
			before := lcSnapshot(t, p)
			xIno := lcInodeOf(t, "/run/netns/"+x)
			xLinks := sh(t, "ip -n "+x+" -o link show | cut -d: -f2")

			var pids []int
			if how == "NormalEnd" {
				out, stderr, code := run(t, "", "--lab", p+"-lab", "lifecycle_foreign.lua", p, "end")
				if code != 0 {
					t.Fatalf("exit %d:\n%s", code, stderr)
				}
				pids = pidsOf(t, out)
			} else {
				r := startNslua(t, "ready", "--lab", p+"-lab", "lifecycle_foreign.lua", p, "wait")
				r.waitReady()
				pids = pidsOf(t, r.stdout())
				checkMarked(t, p, pids)
				r.signal(syscall.SIGKILL)
				r.wait()
				if out, stderr, code := run(t, "", "down", p+"-lab"); code != 0 {
					t.Fatalf("nslua down: exit %d\n%s%s", code, out, stderr)
				}
			}
			lcSameState(t, how, before, lcSnapshot(t, p))
			if ino := lcInodeOf(t, "/run/netns/"+x); ino != xIno {
				t.Errorf("/run/netns/%s is namespace %d now, was %d", x, ino, xIno)
			}
			if got := sh(t, "ip -n "+x+" -o link show | cut -d: -f2"); got != xLinks {
				t.Errorf("links in %s: %q, were %q", x, got, xLinks)
			}
			if !lcRunning(foreign) {
				t.Errorf("the process the test started in %s (pid %d) was stopped", x, foreign)
			}
			checkProcsGone(t, p, pids, nil)
		})
	}
}

// setupForeign makes what lifecycle_foreign.lua expects and returns the
// pid of a process running in PREFIXx. Its cleanup runs before
// cleanupPrefix's check.
func setupForeign(t *testing.T, p string) int {
	t.Helper()
	x, m := p+"x", p+"m"
	t.Cleanup(func() {
		exec.Command("sh", "-c", fmt.Sprintf(
			"for pid in $(ip netns pids %[1]s); do kill -9 $pid; done; ip netns del %[1]s; ip link del %[2]sfa; rm -rf /etc/netns/%[1]s /etc/netns/%[3]s",
			x, p, m)).Run()
	})
	sh(t, fmt.Sprintf(`ip netns add %[1]s
mkdir -p /etc/netns/%[1]s /etc/netns/%[2]s
echo "127.0.0.1 not-written-by-the-lab" > /etc/netns/%[1]s/hosts
echo "nameserver 10.234.0.1" > /etc/netns/%[1]s/resolv.conf
echo "not written by the lab" > /etc/netns/%[2]s/keep.conf
ip link add %[3]sfa type veth peer name %[3]sfb`, x, m, p))
	cmd := exec.Command("ip", "netns", "exec", x, "sleep", "1010")
	cmd.Env = append(os.Environ(), "LCFOREIGN="+p)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	xIno := lcInodeOf(t, "/run/netns/"+x)
	for i := 0; ; i++ { // ip netns exec enters x, then execs sleep
		var st syscall.Stat_t
		if syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid), &st) == nil && st.Ino == xIno {
			break
		}
		if i == 200 {
			t.Fatalf("pid %d never entered %s", cmd.Process.Pid, x)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd.Process.Pid
}

func lcInodeOf(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return st.Ino
}

// --keep and ns.keep() leave the lab up, daemons running; a new run of the
// lab is refused until `nslua down`, which says what it removed and can
// be repeated.
func TestLifecycleKeepAndDown(t *testing.T) {
	for _, how := range []string{"--keep", "ns.keep"} {
		t.Run(strings.TrimLeft(how, "-"), func(t *testing.T) {
			t.Parallel()
			p := prefix(t)
			cleanupPrefix(t, p)
			cleanupMarked(t, p)
			cleanupMarked(t, p)
			lab := p + "-lab"
			before := lcSnapshot(t, p)
			args := []string{"--keep", "--lab", lab, "lifecycle_lab.lua", p, "end"}
			if how == "ns.keep" {
				args = []string{"--lab", lab, "lifecycle_lab.lua", p, "keep"}
			}
			out, stderr, code := run(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, "nslua down "+lab) {
				t.Errorf("stderr does not say how to remove the kept lab:\n%s", stderr)
			}
			pids := pidsOf(t, out)
			checkMarked(t, p, pids)
			for i := 1; i <= 5; i++ {
				if _, err := os.Stat(fmt.Sprintf("/run/netns/%sn%d", p, i)); err != nil {
					t.Errorf("kept lab lost a namespace: %v", err)
				}
			}
			_, stderr, code = run(t, "", "--lab", lab, "-e", "")
			if code != 1 || !strings.Contains(stderr, "nslua down "+lab) {
				t.Errorf("a new run of a kept lab: exit %d, want 1 and a hint to run nslua down:\n%s", code, stderr)
			}
			checkDown(t, lab, p, pids)
			lcSameState(t, "after down", before, lcSnapshot(t, p))
			checkProcsGone(t, p, pids, lcNumbers(t, out, "ino"))
		})
	}
}

// One run per lab: a second run, and `nslua down`, are refused at once,
// naming the PID that holds the lab, and the running lab is untouched.
func TestLifecycleSecondRunRefused(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	cleanupMarked(t, p)
	lab := p + "-lab"
	before := lcSnapshot(t, p)
	r := startNslua(t, "ready", "--lab", lab, "lifecycle_lab.lua", p, "wait")
	r.waitReady()
	pids := pidsOf(t, r.stdout())
	checkMarked(t, p, pids)
	up := lcSnapshot(t, p)
	holder := fmt.Sprintf("pid %d", r.cmd.Process.Pid)

	start := time.Now()
	_, stderr, code := run(t, "", "--lab", lab, "-e", fmt.Sprintf("ns.add(%q)", p+"z"))
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the second run took %v to be refused", took)
	}
	if code != 1 || !strings.Contains(stderr, holder) {
		t.Errorf("second run: exit %d, want 1 and an error naming %s:\n%s", code, holder, stderr)
	}
	if out, stderr, code := run(t, "", "down", lab); code != 1 || !strings.Contains(stderr, holder) {
		t.Errorf("nslua down of a running lab: exit %d, want 1 and an error naming %s:\n%s%s", code, holder, out, stderr)
	}
	lcSameState(t, "the running lab after the refused runs", up, lcSnapshot(t, p))
	for _, pid := range pids {
		if !lcRunning(pid) {
			t.Errorf("pid %d of the running lab was stopped", pid)
		}
	}
	r.signal(syscall.SIGTERM)
	if code := r.wait(); code != 0 {
		t.Errorf("the first run ended with %d:\n%s", code, r.stderrText())
	}
	lcSameState(t, "after the first run", before, lcSnapshot(t, p))
	checkProcsGone(t, p, pids, nil)
}

// n:delete() stops the processes nslua started in the namespace, and in one
// the lab made, every process; in one it opened, the others live on.
func TestLifecycleDeleteStopsProcesses(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	cleanupMarked(t, p)
	foreign := setupForeign(t, p)
	code := fmt.Sprintf(`
local p = %q
local env = {LCTEST = p}
local function lcRunning(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return false end
  local s = f:read("*a")
  f:close()
  return s:match("%%) (%%a)") ~= "Z"
end
local n = ns.add(p .. "d")
local d = n:spawn({"sleep", "1020"}, {env = env})
local stray = tonumber(n:exec("sleep 1021 >/dev/null 2>&1 & echo $!", {env = env}).stdout)
local x = ns.open(p .. "x")
local dx = x:spawn({"sleep", "1022"}, {env = env})
assert(lcRunning(d.pid) and lcRunning(stray) and lcRunning(dx.pid), "not started")
n:delete()
assert(not lcRunning(d.pid), "delete left its daemon running")
assert(not lcRunning(stray), "delete left a process of the namespace it made running")
assert(lcRunning(dx.pid), "deleting one namespace stopped a process in another")
x:delete()
assert(not lcRunning(dx.pid), "delete of an opened namespace left nslua's daemon running")
`, p)
	_, stderr, status := run(t, "", "--lab", p+"-lab", "-e", code)
	if status != 0 {
		t.Fatalf("exit %d:\n%s", status, stderr)
	}
	if !lcRunning(foreign) {
		t.Errorf("deleting the opened namespace stopped a process nslua did not start (pid %d)", foreign)
	}
	checkProcsGone(t, p, nil, nil)
}

// A Go panic while the script runs is reported as a bug with its stack in
// a file, and the lab is still torn down. No nslua binding panics on
// purpose, so the panic comes from gopher-lua's string.rep (strings.Repeat
// overflow), which takes the same recovery path as a binding's panic.
func TestLifecyclePanicIsReportedAndTornDown(t *testing.T) {
	// Without a memory limit, string.rep is gopher-lua's own, unguarded.
	t.Setenv("NSLUA_MEMORY_LIMIT", "off")
	p := prefix(t)
	cleanupPrefix(t, p)
	cleanupMarked(t, p)
	before := lcSnapshot(t, p)
	code := fmt.Sprintf(`
local a, b = ns.add(%[1]q .. "a"), ns.add(%[1]q .. "b")
a:veth("eth0", b, "eth0")
a:spawn({"sleep", "1030"}, {env = {LCTEST = %[1]q}})
string.rep("abcd", 2^62)`, p)
	_, stderr, status := run(t, "", "--lab", p+"-lab", "-e", code)
	if status != 1 || !strings.Contains(stderr, "a bug in nslua") {
		t.Fatalf("exit %d, want 1 and a bug report:\n%s", status, stderr)
	}
	m := regexp.MustCompile(`report it with (\S+)\)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("the report names no file:\n%s", stderr)
	}
	defer os.Remove(m[1])
	data, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatalf("the panic report: %v", err)
	}
	if !strings.Contains(string(data), "goroutine ") || !strings.Contains(string(data), "strings.Repeat") {
		t.Errorf("the panic report has no Go stack:\n%s", data)
	}
	lcSameState(t, "after a panic", before, lcSnapshot(t, p))
	checkProcsGone(t, p, nil, nil)
}

// os.exit ends the run at once (pcall cannot catch it) with its status,
// but after the ns.defer functions (once each; os.exit inside one is an
// error) and the teardown.
func TestLifecycleOsExitTearsDown(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	cleanupMarked(t, p)
	before := lcSnapshot(t, p)
	deferFile := filepath.Join(t.TempDir(), "deferred")
	code := fmt.Sprintf(`
local a = ns.add(%[1]q .. "a")
ns.host():veth(%[1]q .. "h", a, "eth0")
a:spawn({"sleep", "1040"}, {env = {LCTEST = %[1]q}})
ns.defer(function() local f = assert(io.open(%[2]q, "a")); f:write(#a:pids(), "\n"); f:close() end)
ns.defer(function() os.exit(9) end)
pcall(os.exit, 3)
print("os.exit returned")`, p, deferFile)
	out, stderr, status := run(t, "", "--lab", p+"-lab", "-e", code)
	if status != 3 || strings.Contains(out, "returned") {
		t.Errorf("exit %d, want 3 and no return from os.exit:\n%s%s", status, out, stderr)
	}
	if !strings.Contains(stderr, "os.exit: called during teardown") {
		t.Errorf("os.exit in an ns.defer function is not reported:\n%s", stderr)
	}
	// once, with the daemon still there: before the built-in teardown
	if data, err := os.ReadFile(deferFile); err != nil || string(data) != "1\n" {
		t.Errorf("the ns.defer function wrote %q (%v), want \"1\\n\"", data, err)
	}
	lcSameState(t, "after os.exit", before, lcSnapshot(t, p))
	checkProcsGone(t, p, nil, nil)
}

// A reader of nslua's stdout that goes away (nslua lab.lua | head -1) does
// not kill nslua before its teardown: the writes fail, the run goes on.
func TestLifecycleClosedStdout(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	cleanupMarked(t, p)
	before := lcSnapshot(t, p)
	code := fmt.Sprintf(`
local a = ns.add(%[1]q .. "a")
a:spawn({"sleep", "1050"}, {env = {LCTEST = %[1]q}})
print("ready")
io.stdout:flush()
ns.sleep(0.3) -- the test closes the pipe meanwhile
for i = 1, 1000 do print(i) end
io.stderr:write("printed\n")`, p)
	cmd := exec.Command(nslua, "--lab", p+"-lab", "-e", code)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = pw, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	line, _ := bufio.NewReader(pr).ReadString('\n')
	pr.Close()
	if line != "ready\n" {
		t.Errorf("first line %q, want ready", line)
	}
	err = cmd.Wait()
	if err != nil || !strings.Contains(stderr.String(), "printed") {
		t.Errorf("nslua with a closed stdout: %v, want exit 0 after the script's end; stderr:\n%s", err, stderr.String())
	}
	lcSameState(t, "after a closed stdout", before, lcSnapshot(t, p))
	checkProcsGone(t, p, nil, nil)
}

// A syntax error is reported as FILE:LINE: like any Lua error, exit 1.
func TestLifecycleSyntaxErrorHasFileLine(t *testing.T) {
	script := filepath.Join(t.TempDir(), "broken.lua")
	if err := os.WriteFile(script, []byte("local x = 1\nlocal y = = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := prefix(t)
	cleanupPrefix(t, p)
	_, stderr, status := run(t, "", "--lab", p+"-lab", script)
	want := "nslua: " + script + ":2: syntax error near '='"
	if status != 1 || !strings.HasPrefix(stderr, want) {
		t.Errorf("exit %d, stderr %q; want 1 and %q", status, stderr, want)
	}
}

// Runs of one lab that race each other: at any moment one holds the lab;
// the others are refused, naming a PID. Two holders at once would show as
// "already exists" (both add the same namespace), a lost lab directory as
// a failure to create the journal.
func TestLifecycleOneRunAtATime(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	busy := regexp.MustCompile(`^nslua: lab "` + p + `-lab" is in use by pid [1-9][0-9]*\n$`)
	var mu sync.Mutex
	ran, refused := 0, 0
	for range 20 {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				_, stderr, code := run(t, "", "--lab", p+"-lab", "-e", fmt.Sprintf("ns.add(%q)", p+"z"))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case code == 0:
					ran++
				case code == 1 && busy.MatchString(stderr):
					refused++
				default:
					t.Errorf("exit %d: %s", code, stderr)
				}
			})
		}
		wg.Wait()
	}
	t.Logf("%d runs, %d refused", ran, refused)
	if ran < 20 {
		t.Errorf("only %d of 20 rounds had a run that got the lab", ran)
	}
}

// A second signal while the teardown waits for a daemon that ignores
// SIGTERM does not cut the teardown short: the daemon still gets SIGKILL,
// everything goes, and the exit status is the first signal's.
func TestLifecycleSignalDuringTeardown(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	cleanupMarked(t, p)
	before := lcSnapshot(t, p)
	code := fmt.Sprintf(`
local a = ns.add(%[1]q .. "a")
ns.host():veth(%[1]q .. "h", a, "eth0")
local d = a:spawn("trap '' TERM; echo trapped; while :; do sleep 0.1; done", {env = {LCTEST = %[1]q}, ready = "trapped"})
print("pid " .. d.pid)
print("ready")
io.stdout:flush()
ns.host():exec{"sleep", "1000"}`, p)
	r := startNslua(t, "ready", "--lab", p+"-lab", "-e", code)
	r.waitReady()
	pids := pidsOf(t, r.stdout())
	checkMarked(t, p, pids)
	r.signal(syscall.SIGINT)
	time.Sleep(500 * time.Millisecond) // the teardown now waits 3 s for the daemon
	r.signal(syscall.SIGINT)
	r.signal(syscall.SIGTERM)
	if status := r.wait(); status != 130 {
		t.Errorf("exit %d, want 130:\n%s", status, r.stderrText())
	}
	if took := time.Since(r.start); took < 3*time.Second {
		t.Errorf("the run ended after %v: the teardown cannot have waited for the daemon", took)
	}
	lcSameState(t, "after signals during the teardown", before, lcSnapshot(t, p))
	checkProcsGone(t, p, pids, nil)
}

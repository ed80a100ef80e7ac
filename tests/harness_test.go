// Package tests holds nslua's integration and acceptance tests. They run
// as root on a real kernel with Debian's daemons; nothing is mocked. Lua
// test files (*_test.lua) run in-process: each global function Test* is a
// subtest with its own lab, torn down after it, and checked for leftovers.
package tests

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/repl"
	"github.com/nslua/nslua/luabind"
)

// nslua is the binary under test, built once by TestMain as the README
// builds it; nsluaPure is the same without cgo, so without the C fast path
// of `nslua exec` (cmd/nslua/fastexec.c): both paths are tested.
var nslua, nsluaPure string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("tests: not root; the integration tests need root (they make namespaces)")
		os.Exit(0)
	}
	// tests/vm/run builds the binaries on the host (building them under
	// the guest's emulated CPU takes minutes) and names their directory.
	prebuilt := os.Getenv("NSLUA_TEST_BINDIR")
	dir, err := os.MkdirTemp("", "nslua-test-bin-")
	if err != nil {
		panic(err)
	}
	nslua = filepath.Join(dir, "nslua")
	nsluaPure = filepath.Join(dir, "nslua-pure")
	for _, b := range []struct{ out, cgo string }{{nslua, "1"}, {nsluaPure, "0"}} {
		if prebuilt != "" {
			if err := copyFile(filepath.Join(prebuilt, filepath.Base(b.out)), b.out); err != nil {
				fmt.Println("tests: NSLUA_TEST_BINDIR:", err)
				os.Exit(1)
			}
			continue
		}
		build := exec.Command("go", "build", "-o", b.out, "../cmd/nslua")
		build.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Println("tests: building nslua failed:", err)
			os.Exit(1)
		}
	}
	_, statErr := os.Stat("/etc/netns")
	_, stateErr := os.Stat("/var/lib/nslua")
	etcBefore := treeSums(nil, "/etc", "netns")
	code := m.Run()
	if statErr != nil {
		// The tests made /etc/netns; leave the host's /etc as it was. Remove
		// fails, as it should, if anything is still inside.
		os.Remove("/etc/netns")
	}
	if stateErr != nil {
		os.Remove("/var/lib/nslua") // nslua's, made by the tests: as for /etc/netns
	}
	// The promise: whatever the tests did, the host's /etc (outside the
	// tests' own /etc/netns entries) is byte-identical afterwards.
	if diff := sumsDiffer(etcBefore, treeSums(nil, "/etc", "netns")); len(diff) > 0 {
		fmt.Printf("tests: the host's /etc changed while the tests ran (unless something else, apt say, did it): %s\n", strings.Join(diff, ", "))
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// prefix returns a name prefix unique to this test run, short enough to
// leave room in 15-byte interface names.
func prefix(t testing.TB) string {
	b := make([]byte, 3)
	rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// cleanupPrefix removes, after the test, everything named with p that the
// test may have left: pins, /etc/netns entries, host links, labs. It also
// fails the test if the product left any of it behind.
func cleanupPrefix(t testing.TB, p string) {
	t.Cleanup(func() {
		left := leftovers(p)
		if len(left) > 0 {
			t.Errorf("left behind: %s", strings.Join(left, ", "))
		}
		forceRemove(p)
	})
}

func leftovers(p string) []string {
	var left []string
	for _, dir := range []string{"/run/netns", "/etc/netns", "/run/nslua", "/var/lib/nslua"} {
		matches, _ := filepath.Glob(filepath.Join(dir, p+"*"))
		left = append(left, matches...)
	}
	out, _ := exec.Command("ip", "-o", "link", "show").Output()
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], p) {
			left = append(left, "host link "+strings.TrimSuffix(f[1], ":"))
		}
	}
	left = append(left, mountsUnder("/run/nslua/"+p)...)
	return append(left, cgroupsOf(p)...)
}

// mountsUnder lists the mounts (private state of namespaces) under the
// directories starting with prefix, deepest first.
func mountsUnder(prefix string) []string {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	var found []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], prefix) {
			found = append(found, f[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(found)))
	return found
}

// cgroupsOf lists the run cgroups of labs named with p (nslua-LAB-PID,
// under the cgroup2 root of a unified or a hybrid host).
func cgroupsOf(p string) []string {
	var found []string
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		m, _ := filepath.Glob(filepath.Join(root, "nslua-"+p+"*"))
		found = append(found, m...)
	}
	return found
}

// forceRemove is the test's own safety net, independent of nslua.
func forceRemove(p string) {
	pins, _ := filepath.Glob("/run/netns/" + p + "*")
	for _, pin := range pins {
		name := filepath.Base(pin)
		out, _ := exec.Command("ip", "netns", "pids", name).Output()
		for _, pid := range strings.Fields(string(out)) {
			exec.Command("kill", "-9", pid).Run()
		}
		exec.Command("ip", "netns", "del", name).Run()
	}
	for _, m := range mountsUnder("/run/nslua/" + p) {
		unix.Unmount(m, unix.MNT_DETACH) // before RemoveAll, which would go through them
	}
	for _, glob := range []string{"/etc/netns/" + p + "*", "/run/nslua/" + p + "*", "/var/lib/nslua/" + p + "*"} {
		matches, _ := filepath.Glob(glob)
		for _, m := range matches {
			os.RemoveAll(m)
		}
	}
	for _, cg := range cgroupsOf(p) {
		os.WriteFile(filepath.Join(cg, "cgroup.kill"), []byte("1"), 0)
		time.Sleep(50 * time.Millisecond)
		os.Remove(cg)
	}
	out, _ := exec.Command("ip", "-o", "link", "show").Output()
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], p) {
			name := strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0]
			exec.Command("ip", "link", "del", name).Run()
		}
	}
}

// runLuaTests runs every global Test* function of a Lua file as a subtest.
func runLuaTests(t *testing.T, file string) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	names := luaTestNames(t, file, string(src))
	if len(names) == 0 {
		t.Fatalf("%s has no Test* functions", file)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) { runLuaTest(t, file, string(src), name) })
	}
}

func luaTestNames(t *testing.T, file, src string) []string {
	L := lua.NewState()
	defer L.Close()
	// A runtime without a lab: enough for require and top-level code,
	// which must not build anything (only the Test* functions do).
	luabind.New(nil).Open(L)
	fn, err := L.Load(strings.NewReader(src), file)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var names []string
	L.G.Global.ForEach(func(k, v lua.LValue) {
		if _, ok := v.(*lua.LFunction); ok && strings.HasPrefix(k.String(), "Test") {
			names = append(names, k.String())
		}
	})
	sort.Strings(names)
	return names
}

// runLuaTest gives one Test* function a fresh lab and a `t` object:
// t.prefix (unique name prefix), t:log, t:skip, t:fatal, t:eq.
func runLuaTest(t *testing.T, file, src, name string) {
	p := prefix(t)
	cleanupPrefix(t, p)
	r, err := luabind.StartRun(luabind.RunOptions{
		Lab: p + "-lab", Script: file, ScriptDir: filepath.Dir(file), Log: io.Discard, Out: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	tt := luaT(r.L, t, p)
	runErr := r.DoString(src, file, nil)
	if runErr == nil {
		runErr = r.Call(r.L.GetGlobal(name).(*lua.LFunction), tt)
	}
	if errs := r.Close(); len(errs) > 0 {
		t.Errorf("teardown: %v", errs)
	}
	if runErr != nil {
		msg := repl.ErrorMessage(runErr)
		if strings.Contains(msg, "SKIP: ") {
			t.Skip(msg[strings.Index(msg, "SKIP: ")+6:])
		}
		t.Fatal(msg)
	}
}

func luaT(L *lua.LState, t *testing.T, p string) *lua.LTable {
	tt := L.NewTable()
	tt.RawSetString("prefix", lua.LString(p))
	tt.RawSetString("log", L.NewFunction(func(L *lua.LState) int {
		var parts []string
		for i := 2; i <= L.GetTop(); i++ {
			parts = append(parts, L.ToStringMeta(L.Get(i)).String())
		}
		t.Log(strings.Join(parts, " "))
		return 0
	}))
	tt.RawSetString("skip", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("SKIP: %s", L.OptString(2, "skipped"))
		return 0
	}))
	tt.RawSetString("fatal", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s", L.OptString(2, "failed"))
		return 0
	}))
	tt.RawSetString("eq", L.NewFunction(func(L *lua.LState) int {
		a, b := L.Get(2), L.Get(3)
		if !L.Equal(a, b) {
			L.RaiseError("%s: got %s, want %s", L.OptString(4, "eq"), L.ToStringMeta(a), L.ToStringMeta(b))
		}
		return 0
	}))
	return tt
}

// run runs the nslua binary and returns stdout, stderr and exit status.
func run(t testing.TB, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return runBinary(t, nslua, stdin, args...)
}

func runBinary(t testing.TB, binary, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run nslua %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// sh runs a shell command that must succeed (test setup).
func sh(t testing.TB, script string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

// copyFile copies an executable, so that the tests' binaries sit in a
// directory of their own as when TestMain builds them.
func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}

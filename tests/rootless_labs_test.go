package tests

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The examples run unchanged as a normal user, and leave nothing of that
// uid behind, nor anything on the host (cleanupPrefix; TestMain hashes /etc).
func TestRootlessExamples(t *testing.T) {
	u := newRootlessUser(t)
	for _, ex := range [][]string{{"router"}, {"dhcp"}, {"access-port", "peap"}, {"access-port", "peap", "wrong"}} {
		p := prefix(t)
		cleanupPrefix(t, p)
		out := u.mustRun(t, append([]string{"--lab", p, ex[0] + ".lua"}, ex[1:]...)...)
		if !strings.Contains(out, "ok:") {
			t.Errorf("%s as uid %d: no ok line:\n%s", ex, u.uid, out)
		}
		u.waitGone(t)
		if left := u.leftovers(); len(left) > 0 {
			t.Errorf("%s left: %v", ex, left)
		}
	}
	if out := u.mustRun(t, "version"); !strings.Contains(out, "mode: rootless") {
		t.Errorf("version does not say rootless:\n%s", out)
	}
}

// --keep leaves the lab up in its holder; the same user's ls, exec, inspect,
// graph and down find it; another user running a lab of the same name at
// the same time neither clashes nor sees it.
func TestRootlessKeepTwoUsers(t *testing.T) {
	a, b := newRootlessUser(t), newRootlessUser(t)
	p := prefix(t)
	cleanupPrefix(t, p)
	a.mustRun(t, "--keep", "--lab", p, "router.lua")
	b.mustRun(t, "--keep", "--lab", p, "router.lua")
	for _, u := range []*rlUser{a, b} {
		ls := u.mustRun(t, "ls")
		if n := strings.Count(ls, p+"-a1"); !strings.Contains(ls, "kept") || n != 1 {
			t.Errorf("uid %d: ls shows the lab %d times, want once, kept:\n%s", u.uid, n, ls)
		}
		if addr := u.mustRun(t, "exec", p+"-a1", "--", "ip", "-br", "addr"); !strings.Contains(addr, "10.68.1.2/24") {
			t.Errorf("uid %d: exec ip -br addr:\n%s", u.uid, addr)
		}
		if in := u.mustRun(t, "inspect", p+"-a1"); !strings.Contains(in, "lab "+p) {
			t.Errorf("uid %d: inspect:\n%s", u.uid, in)
		}
		if g := u.mustRun(t, "graph", p); !strings.Contains(g, p+"-router") {
			t.Errorf("uid %d: graph:\n%s", u.uid, g)
		}
	}
	if _, err := os.Stat("/run/netns/" + p + "-a1"); err == nil {
		t.Errorf("a rootless lab's namespace is pinned in the host's /run/netns")
	}
	a.mustRun(t, "down", p)
	if ls := b.mustRun(t, "ls"); !strings.Contains(ls, p+"-a1") {
		t.Errorf("uid %d's down took uid %d's lab too:\n%s", a.uid, b.uid, ls)
	}
	b.mustRun(t, "down", p)
	for _, u := range []*rlUser{a, b} {
		if ls := u.mustRun(t, "ls"); strings.Contains(ls, p) {
			t.Errorf("uid %d: lab still listed after down:\n%s", u.uid, ls)
		}
	}
}

// waitingLab starts a lab whose script runs a daemon and waits for a signal.
func waitingLab(t *testing.T, u *rlUser, p string) *exec.Cmd {
	t.Helper()
	script := filepath.Join(u.bin, "wait.lua")
	src := `local n = ns.add(ns.lab().name .. "-w")
n:spawn({"sleep", "1000"})
print("ready")
ns.wait()
`
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := u.command("--lab", p, "wait.lua")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the waiting lab did not start: %q", line)
	}
	go func() { bufio.NewReader(out).WriteTo(discard{}) }()
	return cmd
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// SIGINT and SIGTERM end a rootless run with its teardown; kill -9 leaves
// its directories, which `nslua down` removes; no process survives any.
func TestRootlessSignals(t *testing.T) {
	u := newRootlessUser(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		p := prefix(t)
		cleanupPrefix(t, p)
		cmd := waitingLab(t, u, p)
		// setpriv execs nslua: the PID is nslua's.
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: the run did not end", sig)
		}
		u.waitGone(t)
		if pids := u.pids(); len(pids) > 0 {
			t.Errorf("%v: processes of uid %d left: %v", sig, u.uid, pids)
		}
		if sig == syscall.SIGKILL {
			if ls := u.mustRun(t, "ls"); !strings.Contains(ls, p) || !strings.Contains(ls, "dead") {
				t.Errorf("after kill -9, ls does not show the dead lab:\n%s", ls)
			}
			u.mustRun(t, "down", p)
		}
		if left := u.leftovers(); len(left) > 0 {
			t.Errorf("%v: left %v", sig, left)
		}
	}
}

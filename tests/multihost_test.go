package tests

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nslua/nslua/tests/simhost"
)

// multiHost starts n simulated hosts for a test named with p and checks,
// at the end, that none of them holds anything of a lab any more.
func multiHost(t testing.TB, p string, n int) *simhost.Sim {
	s := simhost.Start(t, p, n)
	t.Cleanup(func() {
		for _, h := range s.Hosts {
			if left := settled(s, h); len(left) > 0 {
				t.Errorf("left on %s: %s", h.Alias, strings.Join(left, ", "))
			}
		}
	})
	return s
}

// settled is what h holds of any lab once the sessions of ssh connections
// that just closed are gone (each is a process of h for a moment).
func settled(s *simhost.Sim, h *simhost.Host) []string {
	left := s.Leftovers(h)
	for end := time.Now().Add(5 * time.Second); len(left) > 0 && time.Now().Before(end); left = s.Leftovers(h) {
		time.Sleep(200 * time.Millisecond)
	}
	return left
}

// runHosts runs the binary with the Sim's ssh config.
func runHosts(t testing.TB, s *simhost.Sim, args ...string) (string, string, int) {
	t.Helper()
	return run(t, "", append([]string{"--ssh-config", s.SSHConfig}, args...)...)
}

func TestMultiHostRouter(t *testing.T) {
	p := mhPrefix(t)
	s := multiHost(t, p, 3)
	stdout, stderr, code := runHosts(t, s, "--lab", p, "testdata/multihost_router.lua", p)
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"kind\tvxlan\tmtu\t1450\tpeer\tLink(left0 in " + p + "r",
		"function\ttestdata/multihost_router.lua:16: " + p + "l:exec: a function cannot be passed to a namespace on host h1",
		"shorthand\tveth\tveth\tvxlan\tvxlan", "ready\ttrue\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
}

func TestMultiHostDHCP(t *testing.T) {
	p := mhPrefix(t)
	s := multiHost(t, p, 3)
	stdout, stderr, code := runHosts(t, s, "--lab", p, "testdata/multihost_dhcp.lua", p)
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(stdout, "\t10.5.0.1\n"); n != 2 || !strings.Contains(stdout, "leases\t2\n") {
		t.Errorf("want two leases with router 10.5.0.1, and the server's two: %s", stdout)
	}
}

// controller is a run of the binary in the background.
type controller struct {
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	stdout, stderr strings.Builder // stdout: what came after "built"
	read           chan struct{}   // closed when stdout has ended
}

// wait waits for the run's end and its output.
func (c *controller) wait() error {
	err := c.cmd.Wait()
	<-c.read
	return err
}

// startHosts starts the binary with the Sim's ssh config, its stdin a
// pipe, and waits for the line "built" on its stdout.
func startHosts(t *testing.T, s *simhost.Sim, args ...string) *controller {
	t.Helper()
	c := &controller{cmd: exec.Command(nslua, append([]string{"--ssh-config", s.SSHConfig}, args...)...), read: make(chan struct{})}
	c.stdin, _ = c.cmd.StdinPipe()
	stdout, _ := c.cmd.StdoutPipe()
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.cmd.Process.Kill(); c.wait() })
	sc := bufio.NewScanner(stdout)
	built := false
	for !built && sc.Scan() {
		built = sc.Text() == "built"
	}
	go func() {
		defer close(c.read)
		for sc.Scan() {
			c.stdout.WriteString(sc.Text() + "\n")
		}
	}()
	if !built {
		c.wait()
		t.Fatalf("the lab did not build: %s", c.stderr.String())
	}
	return c
}

// sshOf is the PID of the controller's ssh to host alias for lab p.
func sshOf(t *testing.T, p, alias string) int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		args := strings.Split(string(cmd), "\x00")
		if err != nil || len(args) < 4 || filepath.Base(args[0]) != "ssh" {
			continue
		}
		joined := strings.Join(args, " ")
		if strings.Contains(joined, " "+alias+" ") && strings.HasSuffix(strings.TrimSpace(joined), "agent '"+p+"'") {
			pid, _ := strconv.Atoi(e.Name())
			return pid
		}
	}
	t.Fatalf("no ssh to %s for lab %s", alias, p)
	return 0
}

// A controller killed with -9 during its run: the agents see their
// stdin close and tear down; `nslua down LAB` then finds what is left,
// here and on each host, from the journals; nothing remains anywhere.
func TestMultiHostKill9ThenDown(t *testing.T) {
	p := mhPrefix(t)
	s := multiHost(t, p, 2)
	c := startHosts(t, s, "--lab", p, "testdata/multihost_crash.lua", p, "wait")
	ssh1 := sshOf(t, p, "h1")
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.wait()
	stdout, stderr, code := run(t, "", "down", p)
	if code != 0 {
		t.Fatalf("nslua down %s: exit %d: %s%s", p, code, stdout, stderr)
	}
	if !strings.Contains(stdout, "other hosts' parts") {
		t.Errorf("down did not undo the hosts' parts: %s", stdout)
	}
	if syscall.Kill(ssh1, 0) == nil {
		t.Errorf("the killed controller's ssh to h1 (pid %d) is still there", ssh1)
	}
	t.Logf("down:\n%s%s", stdout, stderr)
}

// One host's connection killed: its agent tears its part down, the
// controller's next call there is a Lua error, the other host goes on,
// and the end reports the lost host.
func TestMultiHostLostConnection(t *testing.T) {
	p := mhPrefix(t)
	s := multiHost(t, p, 2)
	c := startHosts(t, s, "--lab", p, "testdata/multihost_crash.lua", p)
	syscall.Kill(sshOf(t, p, "h2"), syscall.SIGKILL)
	var left []string
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if left = s.Leftovers(s.Hosts[1]); len(left) == 0 {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("h2 still holds, after its connection was killed: %v", left)
	}
	c.stdin.Write([]byte("go on\n"))
	err := c.wait()
	t.Logf("stdout:\n%s\nstderr:\n%s", c.stdout.String(), c.stderr.String())
	if err != nil {
		t.Errorf("the controller: %v", err)
	}
	for _, want := range []string{"h2 call\tfalse\ttestdata/multihost_crash.lua:27: host h2: the connection to its agent is lost", "h1 still\tup"} {
		if !strings.Contains(c.stdout.String(), want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if want := "nslua: teardown: host h2: the connection was lost"; !strings.Contains(c.stderr.String(), want) {
		t.Errorf("stderr lacks %q", want)
	}
}

// ns.place spreads namespaces over the hosts or asks a function; a kept
// lab's namespaces show in `nslua inspect` with their hosts, and `nslua
// down` on the controller removes every host's part.
func TestMultiHostPlaceKeepInspectDown(t *testing.T) {
	p := mhPrefix(t)
	s := multiHost(t, p, 2)
	stdout, stderr, code := runHosts(t, s, "--lab", p, "testdata/multihost_keep.lua", p)
	t.Cleanup(func() { run(t, "", "down", p) })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := map[string]string{"s1": "local", "s2": "h1", "s3": "h2", "f1": "h2", "f2": "local", "h": "local"}
	for n, h := range want {
		if line := "placed\t" + p + n + "\t" + h + "\n"; !strings.Contains(stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, stdout)
		}
	}
	out, errs, code := run(t, "", "inspect", "--json")
	if code != 0 {
		t.Fatalf("inspect --json: exit %d: %s", code, errs)
	}
	var infos []struct{ Name, Host, Lab string }
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, info := range infos {
		if info.Lab == p {
			got[strings.TrimPrefix(info.Name, p)] = info.Host
		}
	}
	for n, h := range want {
		if h == "local" {
			h = ""
		}
		if host, ok := got[n]; !ok || host != h {
			t.Errorf("inspect --json: %s%s on host %q (listed: %v), want %q", p, n, host, ok, h)
		}
	}
	if out, _, _ := run(t, "", "inspect"); !strings.Contains(out, "lab "+p+"  host h1") {
		t.Errorf("inspect's text lacks a namespace of lab %s on host h1:\n%s", p, out)
	}
	// The picture shows where each namespace is, and the cross-host link
	// as the two ends of one VXLAN tunnel.
	if dot, errs, code := run(t, "", "graph", p); code != 0 || !strings.Contains(dot, "on host h1") || !strings.Contains(dot, "on host h2") {
		t.Errorf("graph %s: exit %d, no namespace on host h1 and h2: %s\n%s", p, code, errs, dot)
	}
	if svg, errs, code := run(t, "", "graph", "--format", "svg", p); code != 0 || !strings.Contains(svg, "on host h1") || !strings.Contains(svg, "tunnel pair") {
		t.Errorf("graph --format svg %s: exit %d, no host h1 or no tunnel pair: %s\n%.2000s", p, code, errs, svg)
	}
	// h1 alone undoes its part from its own journal; the controller's down
	// then finds nothing there, and undoes the rest.
	version, build := agentBuild(t)
	bin := "/root/.cache/nslua/nslua-" + version + "-" + build
	if out, err := exec.Command("ssh", "-F", s.SSHConfig, "h1", bin+" down "+p).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "lab "+p+": removed 1 namespace") {
		t.Errorf("down on h1 alone: %v: %s", err, out)
	}
	out, errs, code = run(t, "", "down", p)
	if code != 0 || !strings.Contains(out, "2 other hosts' parts") {
		t.Fatalf("down: exit %d: %s%s", code, out, errs)
	}
	// The binary was copied once to each host's cache, under its version
	// and build, and no temporary copy is left.
	for _, h := range s.Hosts {
		ls, err := s.Run(h, "ls", "-A", "/root/.cache/nslua")
		if err != nil || strings.TrimSpace(ls) != "nslua-"+version+"-"+build {
			t.Errorf("%s's cache holds %q (%v), want the one copy", h.Alias, ls, err)
		}
	}
}

// Ctrl-C during the build: the controller closes every agent's stdin,
// each tears its part down and reports; the run ends with 130.
func TestMultiHostInterrupt(t *testing.T) {
	p := mhPrefix(t)
	s := multiHost(t, p, 2)
	c := startHosts(t, s, "--lab", p, "testdata/multihost_crash.lua", p, "wait")
	c.cmd.Process.Signal(syscall.SIGINT)
	err := c.wait()
	if c.cmd.ProcessState.ExitCode() != 130 {
		t.Errorf("exit %v, want 130: %s", err, c.stderr.String())
	}
	if strings.Contains(c.stderr.String(), "lost") {
		t.Errorf("a host's connection was lost on Ctrl-C: %s", c.stderr.String())
	}
	for _, h := range s.Hosts {
		if left := settled(s, h); len(left) > 0 {
			t.Errorf("right after the run, %s holds %v", h.Alias, left)
		}
	}
}

// --hosts names the hosts before the script runs; a host ssh cannot
// reach is an error naming it, and nothing is left of the lab.
func TestMultiHostHostsFile(t *testing.T) {
	p := mhPrefix(t)
	s := multiHost(t, p, 1)
	file := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(file, []byte("# the lab's other host\nb h1\n"), 0o644)
	code := `local n = ns.add(arg[1], {host = "b"}); print(n.host, n:exec("ip -o -4 addr show dev eth0").code)`
	stdout, stderr, rc := runHosts(t, s, "--hosts", file, "--lab", p, "-e", code, p)
	if rc != 0 || stdout != "b\t1\n" {
		t.Errorf("exit %d, stdout %q (want b and the code of a namespace without eth0): %s", rc, stdout, stderr)
	}
	os.WriteFile(file, []byte("b h1\nc nosuchalias.invalid\n"), 0o644)
	_, stderr, rc = runHosts(t, s, "--hosts", file, "--lab", p, "-e", "", p)
	if rc != 1 || !strings.Contains(stderr, "nslua: host c: ssh nosuchalias.invalid ended before its agent answered: ssh: Could not resolve hostname nosuchalias.invalid") {
		t.Errorf("an unreachable host: exit %d: %s", rc, stderr)
	}
}

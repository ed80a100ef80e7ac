package tests

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExecLua(t *testing.T) { runLuaTests(t, "exec_test.lua") }

// The CLI's exec is a drop-in for `ip netns exec`, through the C fast path
// and through the Go one.
func TestExecCLI(t *testing.T) {
	for name, binary := range map[string]string{"cgo": nslua, "pure-go": nsluaPure} {
		t.Run(name, func(t *testing.T) { testExecCLI(t, binary) })
	}
}

func testExecCLI(t *testing.T, binary string) {
	run := func(t testing.TB, stdin string, args ...string) (string, string, int) {
		return runBinary(t, binary, stdin, args...)
	}
	p := prefix(t)
	cleanupPrefix(t, p)
	name := p + "c"
	sh(t, "ip netns add "+name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })

	cases := []struct {
		args []string
		code int
	}{
		{[]string{"true"}, 0},
		{[]string{"sh", "-c", "exit 3"}, 3},
		{[]string{"no-such-program-" + p}, 127},
	}
	for _, c := range cases {
		_, stderr, code := run(t, "", append([]string{"exec", name, "--"}, c.args...)...)
		if code != c.code {
			t.Errorf("exec %v: exit %d, want %d (%s)", c.args, code, c.code, stderr)
		}
	}
	out, _, code := run(t, "hello from stdin\n", "exec", name, "--", "cat")
	if code != 0 || out != "hello from stdin\n" {
		t.Errorf("stdin: %q, exit %d", out, code)
	}
	out, _, _ = run(t, "", "exec", name, "--", "ls", "/sys/class/net")
	if out != "lo\n" {
		t.Errorf("/sys/class/net inside: %q, want only lo", out)
	}
	// The /etc binding: an entry, an entry the host lacks, writes kept inside.
	etcDir := "/etc/netns/" + name
	if err := os.MkdirAll(etcDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etcDir) })
	os.WriteFile(etcDir+"/hosts", []byte("10.1.2.3 cli.lab\n"), 0o644)
	os.WriteFile(etcDir+"/"+p+".conf", []byte("only-inside\n"), 0o644)
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	script := "getent hosts cli.lab; cat /etc/" + p + ".conf; echo x > /etc/" + p + ".junk; echo y >> /etc/resolv.conf"
	out, stderr, code := run(t, "", "exec", name, "--", "sh", "-c", script)
	if code != 0 || !strings.Contains(out, "10.1.2.3") || !strings.Contains(out, "only-inside") {
		t.Errorf("/etc binding: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	for _, f := range []string{"/etc/" + p + ".conf", "/etc/" + p + ".junk"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s appeared in the host's /etc", f)
			os.Remove(f)
		}
	}
	if now, _ := os.ReadFile("/etc/resolv.conf"); string(now) != string(hostResolv) {
		t.Errorf("the host's /etc/resolv.conf changed: %q", now)
	}

	_, stderr, code = run(t, "", "exec", p+"absent", "--", "true")
	if code != 1 || !strings.Contains(stderr, "does not exist") {
		t.Errorf("unknown namespace: exit %d, %q", code, stderr)
	}
	_, _, code = run(t, "", "exec", name, "--")
	if code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
}

// A signal to `nslua exec` reaches the command: it is the command.
func TestExecCLISignal(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	name := p + "g"
	sh(t, "ip netns add "+name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	cmd := exec.Command(nslua, "exec", name, "--", "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("sleep was not ended by the forwarded SIGTERM: %v", err)
	}
}

// Daemons spawned by a run are gone after it, however it ends.
func TestSpawnedGoneAfterEveryEnd(t *testing.T) {
	for _, end := range []string{"normal", "error", "sigterm"} {
		t.Run(end, func(t *testing.T) {
			p := prefix(t)
			cleanupPrefix(t, p)
			script := `local n = ns.add("` + p + `n")
local a = n:spawn{"sleep", "1000"}
local b = ns.host():spawn{"sleep", "1001"}
print(a.pid, b.pid)
io.stdout:flush()
if arg[1] == "error" then error("on purpose") end
if arg[1] == "sigterm" then ns.wait() end`
			cmd := exec.Command(nslua, "--lab", p+"lab", "-e", script, end)
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			pids := strings.Fields(line)
			if end == "sigterm" {
				cmd.Process.Signal(syscall.SIGTERM)
			}
			cmd.Wait()
			if len(pids) != 2 {
				t.Fatalf("script printed %q", line)
			}
			for _, s := range pids {
				pid, _ := strconv.Atoi(s)
				if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
					t.Errorf("pid %d still runs after a %s end", pid, end)
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		})
	}
}

func TestLibrariesLua(t *testing.T) { runLuaTests(t, "libs_test.lua") }

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

// The CLI's exec is a drop-in for `ip netns exec`.
func TestExecCLI(t *testing.T) {
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
	_, stderr, code := run(t, "", "exec", p+"absent", "--", "true")
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

package tests

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tests of issue 13's items 7-10, 12 and 13: no way to end a run leaks,
// teardown cannot be blocked by Lua, exact errors, down's summary.

// writeScript puts a Lua script in a temporary directory.
func writeScript(t *testing.T, name, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// uniqueSleep is a `sleep N` argument no other process on the machine has.
func uniqueSleep() string { return strconv.Itoa(100000 + rand.N(800000)) }

// sleepers lists the processes running `sleep secs` (zombies excluded).
func sleepers(secs string) []int {
	want := []byte("sleep\x00" + secs + "\x00")
	dirs, _ := os.ReadDir("/proc")
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if bytes.HasSuffix(cmdline, want) && (bytes.Equal(cmdline, want) || bytes.HasSuffix(cmdline, append([]byte{0}, want...))) && lcRunning(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killSleepers is the test's own safety net.
func killSleepers(t *testing.T, secs string) {
	t.Cleanup(func() {
		for _, pid := range sleepers(secs) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

func waitNoSleepers(t *testing.T, what, secs string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for len(sleepers(secs)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if left := sleepers(secs); len(left) > 0 {
		t.Errorf("%s: `sleep %s` processes survive: %v", what, secs, left)
	}
}

// Item 8: ns.defer functions that never end (a loop, a long sleep, a long
// exec) are stopped: by their deadline, and at once by a signal during the
// teardown, which then goes on.
func TestTrustStuckDefersEndedBySignal(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	secs := uniqueSleep()
	killSleepers(t, secs)
	script := writeScript(t, "stuck.lua", fmt.Sprintf(`
local n = ns.add(%[1]q .. "a")
ns.defer(function() while true do end end)
ns.defer(function() ns.sleep(1e6) end)
ns.defer(function() n:exec("sleep %[2]s") end)
print("ready")
ns.wait()
`, p, secs))
	r := startNslua(t, "ready", "--lab", p+"-lab", script)
	r.waitReady()
	r.signal(syscall.SIGTERM) // ends ns.wait; the defers start, the exec hangs
	deadline := time.Now().Add(5 * time.Second)
	for len(sleepers(secs)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(sleepers(secs)) == 0 {
		t.Fatalf("the exec in the defer did not start; stderr:\n%s", r.stderrText())
	}
	start := time.Now()
	r.signal(syscall.SIGTERM) // the second one ends the defers at once
	code := r.wait()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("teardown took %v after the second SIGTERM", d)
	}
	stderr := r.stderrText()
	if code != 143 || !strings.Contains(stderr, "not run") {
		t.Errorf("exit %d, want 143 and the skipped defers named:\n%s", code, stderr)
	}
	waitNoSleepers(t, "after the teardown", secs)
}

// Item 8: a Lua memory bomb is a Lua error, then the normal teardown.
func TestTrustMemoryBomb(t *testing.T) {
	for name, bomb := range map[string]string{
		"doubling":   `local s = "x" while true do s = s .. s end`,
		"string.rep": `local s = string.rep("x", 2^36)`,
		"tables":     `local t = {} for i = 1, 1e9 do t[i] = {i, i} end`,
	} {
		t.Run(name, func(t *testing.T) {
			p := prefix(t)
			cleanupPrefix(t, p)
			code := fmt.Sprintf("ns.add(%q .. \"a\")\nns.defer(function() print(\"deferred\") end)\n%s", p, bomb)
			cmd := exec.Command(nslua, "--lab", p+"-lab", "-e", code)
			cmd.Env = append(os.Environ(), "NSLUA_MEMORY_LIMIT=64M")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			status := cmd.ProcessState.ExitCode()
			if status != 1 || !strings.Contains(stderr.String(), "-e:3: out of memory") {
				t.Errorf("exit %d (%v), want 1 and \"-e:3: out of memory\":\n%s", status, err, stderr.String())
			}
			if !strings.Contains(stdout.String(), "deferred") {
				t.Errorf("the defer did not run; stdout %q, stderr:\n%s", stdout.String(), stderr.String())
			}
		})
	}
}

// Item 9: what the run's processes leave, whatever their environment and
// wherever they went, does not survive the teardown, nor `nslua down`
// after kill -9: a detached process with an empty environment from an
// exec in the host namespace, one in a namespace of its own (unshare -n),
// workers a daemon forks when SIGTERM comes.
func TestTrustDetachedProcessesStopped(t *testing.T) {
	for _, how := range []string{"teardown", "kill9"} {
		t.Run(how, func(t *testing.T) {
			p := prefix(t)
			cleanupPrefix(t, p)
			secs := uniqueSleep()
			killSleepers(t, secs)
			script := writeScript(t, "detach.lua", fmt.Sprintf(`
local n = ns.add(%[1]q .. "a")
ns.host():exec("setsid env -i sleep %[2]s >/dev/null 2>&1 < /dev/null &")
n:exec("unshare -n setsid env -i sleep %[2]s >/dev/null 2>&1 < /dev/null &")
n:spawn({"sh", "-c", "trap 'env -i sleep %[2]s & env -i sleep %[2]s & exit 0' TERM; while :; do sleep 0.05; done"})
ns.sleep(0.3)
print("ready")
if arg[1] == "wait" then ns.wait() end
`, p, secs))
			if how == "teardown" {
				if out, stderr, code := run(t, "", "--lab", p+"-lab", script); code != 0 {
					t.Fatalf("exit %d:\n%s%s", code, out, stderr)
				}
			} else {
				r := startNslua(t, "ready", "--lab", p+"-lab", script, "wait")
				r.waitReady()
				if n := len(sleepers(secs)); n != 2 {
					t.Errorf("%d detached sleepers before the kill, want 2", n)
				}
				r.signal(syscall.SIGKILL)
				r.wait()
				if out, stderr, code := run(t, "", "down", p+"-lab"); code != 0 {
					t.Fatalf("down: exit %d:\n%s%s", code, out, stderr)
				}
			}
			waitNoSleepers(t, "after the "+how, secs)
			if left := cgroupsOf(p); len(left) > 0 {
				t.Errorf("cgroups left: %v", left)
			}
		})
	}
}

// Item 10: a host link renamed during the run is still removed, by the
// teardown and by `nslua down` after kill -9; a lab named "-x" is refused.
func TestTrustRenamedHostLink(t *testing.T) {
	for _, how := range []string{"teardown", "down"} {
		t.Run(how, func(t *testing.T) {
			p := prefix(t)
			cleanupPrefix(t, p)
			script := writeScript(t, "rename.lua", fmt.Sprintf(`
local n = ns.add(%[1]q .. "a")
ns.host():veth(%[1]q .. "h", n, "eth0")
assert(os.execute("ip link set %[1]sh down && ip link set %[1]sh name %[1]sr") == 0)
print("ready")
if arg[1] == "wait" then ns.wait() end
`, p))
			if how == "teardown" {
				if out, stderr, code := run(t, "", "--lab", p+"-lab", script); code != 0 {
					t.Fatalf("exit %d:\n%s%s", code, out, stderr)
				}
			} else {
				r := startNslua(t, "ready", "--lab", p+"-lab", script, "wait")
				r.waitReady()
				r.signal(syscall.SIGKILL)
				r.wait()
				if out, stderr, code := run(t, "", "down", p+"-lab"); code != 0 {
					t.Fatalf("down: exit %d:\n%s%s", code, out, stderr)
				}
			}
			if err := exec.Command("ip", "link", "show", p+"r").Run(); err == nil {
				t.Errorf("the renamed host link %sr is still there", p)
			}
		})
	}
	_, stderr, code := run(t, "", "--lab", "-x", "-e", "")
	if code != 1 || !strings.Contains(stderr, "starts with '-'") {
		t.Errorf("--lab -x: exit %d, want 1 and a refusal:\n%s", code, stderr)
	}
}

// Item 7: `nslua down LAB | head -1` finishes the removal.
func TestTrustDownIntoClosedPipe(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	code := fmt.Sprintf(`for i = 1, 20 do ns.add(%q .. "n" .. i) end ns.keep()`, p)
	if out, stderr, status := run(t, "", "--lab", p+"-lab", "-e", code); status != 0 {
		t.Fatalf("exit %d:\n%s%s", status, out, stderr)
	}
	out, err := exec.Command("bash", "-c", fmt.Sprintf(`%s down -v %s-lab | head -1; echo "status ${PIPESTATUS[0]}"`, nslua, p)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "status 0") {
		t.Errorf("down into head -1: %v\n%s", err, out)
	}
}

// Item 7: a down killed between two steps never makes the next one fail:
// a backup already restored (and gone) counts as done; an unpin cut short
// between its unmount and its unlink leaves an empty pin file that the
// next down removes.
func TestTrustDownAfterInterruptedSteps(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	x := p + "x"
	sh(t, fmt.Sprintf("ip netns add %[1]s && mkdir -p /etc/netns/%[1]s && echo original > /etc/netns/%[1]s/hosts", x))
	t.Cleanup(func() { exec.Command("ip", "netns", "del", x).Run(); os.RemoveAll("/etc/netns/" + x) })
	code := fmt.Sprintf(`ns.open(%q):etc("hosts", "lab's\n"); ns.add(%q .. "a"); ns.keep()`, x, p)
	if out, stderr, status := run(t, "", "--lab", p+"-lab", "-e", code); status != 0 {
		t.Fatalf("exit %d:\n%s%s", status, out, stderr)
	}
	// What a down killed after these steps leaves: the host file restored
	// and its backup removed; namespace a unmounted, its file still there.
	backups, _ := filepath.Glob("/var/lib/nslua/" + p + "-lab/backup/*") // journal.PersistDir: backups outlive a reboot
	if len(backups) != 1 {
		t.Fatalf("backups: %v, want one", backups)
	}
	os.WriteFile("/etc/netns/"+x+"/hosts", []byte("original\n"), 0o644)
	os.Remove(backups[0])
	sh(t, "umount /run/netns/"+p+"a")
	out, stderr, status := run(t, "", "down", p+"-lab")
	if status != 0 {
		t.Errorf("down after an interrupted down: exit %d\n%s%s", status, out, stderr)
	}
	if _, err := os.Lstat("/run/netns/" + p + "a"); err == nil {
		t.Errorf("the empty pin file /run/netns/%sa is left", p)
	}
	if data, _ := os.ReadFile("/etc/netns/" + x + "/hosts"); string(data) != "original\n" {
		t.Errorf("/etc/netns/%s/hosts = %q", x, data)
	}
}

// Item 12: errors say what failed.
func TestTrustExactErrors(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	cases := []struct {
		code   string
		status int
		want   string
	}{
		{`ns.host():exec({"pwd"}, {dir = "/nonexistent-` + p + `"})`, 1, "dir /nonexistent-" + p + ": no such file or directory"},
		{`local n = ns.add("` + p + `a"); os.execute("ip netns del ` + p + `a"); n:exec({"true"})`, 1, "/run/netns/" + p + "a: no such file or directory"},
		{`local r = ns.host():exec({"no-such-program-` + p + `"}); io.stderr:write(r.code, " ", r.stderr); os.exit(r.code == 127)`, 0, "127 no-such-program-" + p + ": command not found"},
		{"\nerror({code = 42})", 1, "-e:2: error object is a table: { code = 42 }"},
		{`ns.defer(function() error("in a defer") end)`, 1, "ns.defer function: -e:1: in a defer"},
		{`ns.host():exec({"true"}, {env = {["A=B"] = "c"}})`, 1, `variable name "A=B" contains '='`},
	}
	for _, c := range cases {
		_, stderr, status := run(t, "", "--lab", p+"-lab", "-e", c.code)
		if status != c.status || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, want %d and %q:\n%s", c.code, status, c.status, c.want, stderr)
		}
	}
	for _, c := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"--lab", "", "-e", ""}, 2, "--lab needs a name"},
		{[]string{"down", p + "-no-such-lab"}, 1, "no such lab"},
	} {
		_, stderr, status := run(t, "", c.args...)
		if status != c.status || !strings.Contains(stderr, c.want) {
			t.Errorf("nslua %q: exit %d, want %d and %q:\n%s", c.args, status, c.status, c.want, stderr)
		}
	}
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", nslua, "graph")
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "must run as root") {
		t.Errorf("graph as nobody: exit %d, want 1 and the root hint:\n%s", cmd.ProcessState.ExitCode(), out)
	}
}

// Item 13: `nslua down` of a 200-leaf star says one line; -v each step.
func TestTrustDownSummary(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	star, _ := filepath.Abs("../examples/star.lua")
	for _, verbose := range []bool{false, true} {
		if out, stderr, status := run(t, "", "--keep", "--lab", p+"-lab", star, "200", p); status != 0 {
			t.Fatalf("star: exit %d:\n%s%s", status, out, stderr)
		}
		args := []string{"down", p + "-lab"}
		if verbose {
			args = []string{"down", "-v", p + "-lab"}
		}
		out, stderr, status := run(t, "", args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		switch {
		case status != 0:
			t.Fatalf("down: exit %d:\n%s%s", status, out, stderr)
		case !verbose && (len(lines) != 1 || !strings.Contains(lines[0], "removed 201 namespaces")):
			t.Errorf("down says %d lines, want one summary with 201 namespaces:\n%s", len(lines), out)
		case verbose && (len(lines) < 202 || !strings.Contains(out, "removed namespace "+p+"l199\n")):
			t.Errorf("down -v does not list each namespace (%d lines):\n%.2000s", len(lines), out)
		}
	}
}

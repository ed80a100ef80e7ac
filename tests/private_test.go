package tests

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestPrivateLua(t *testing.T) { runLuaTests(t, "private_test.lua") }

// keptPrivateLab keeps a lab of two namespaces, a with a program run in it
// (its private state mounted), b with none yet, and brings it down at the
// end.
func keptPrivateLab(t testing.TB) (lab, a, b, stderr string) {
	p := prefix(t)
	cleanupPrefix(t, p)
	lab = p + "lab"
	script := `local a = ns.add(arg[1] .. "a"); ns.add(arg[1] .. "b")
a:exec("echo from-the-script > /tmp/mark")
ns.keep()`
	_, stderr, code := runBinary(t, nslua, "", "--lab", lab, "-e", script, p)
	t.Cleanup(func() { exec.Command(nslua, "down", lab).Run() })
	if code != 0 {
		t.Fatalf("kept lab: exit %d: %s", code, stderr)
	}
	return lab, p + "a", p + "b", stderr
}

// `nslua exec` (both paths) applies a kept lab's private state; `ip netns
// exec` does not, and the kept lab says so; `nslua down` unmounts it all.
func TestPrivateExecCLI(t *testing.T) {
	lab, a, b, stderr := keptPrivateLab(t)
	if !strings.Contains(stderr, "`ip netns exec` does not") {
		t.Errorf("a kept lab with private state does not warn `ip netns exec` users: %q", stderr)
	}
	out, _, _ := runBinary(t, nslua, "", "inspect", a)
	if want := "private  /var/lib -> /run/nslua/" + lab + "/ns/" + a + "/lib\n"; !strings.Contains(out, want) {
		t.Errorf("inspect %s does not name its private /var/lib (%q):\n%s", a, want, out)
	}
	for name, binary := range map[string]string{"cgo": nslua, "pure-go": nsluaPure} {
		out, errOut, code := runBinary(t, binary, "", "exec", a, "--", "cat", "/tmp/mark")
		if code != 0 || out != "from-the-script\n" {
			t.Errorf("%s: exec %s cat /tmp/mark: %q %q exit %d", name, a, out, errOut, code)
		}
		// b: nothing ran there yet; the exec mounts its state (Go), the next one reuses it.
		if _, errOut, code := runBinary(t, binary, "", "exec", b, "--", "sh", "-c", "echo "+name+" >> /tmp/log"); code != 0 {
			t.Errorf("%s: exec %s: exit %d: %s", name, b, code, errOut)
		}
		if _, _, code := runBinary(t, binary, "", "exec", b, "--", "test", "-e", "/tmp/mark"); code != 1 {
			t.Errorf("%s: %s sees %s's /tmp/mark", name, b, a)
		}
	}
	out, _, _ = runBinary(t, nslua, "", "exec", b, "--", "cat", "/tmp/log")
	if out != "cgo\npure-go\n" && out != "pure-go\ncgo\n" {
		t.Errorf("%s's /tmp across execs of both paths: %q", b, out)
	}
	if _, err := os.Stat("/tmp/mark"); err == nil {
		t.Errorf("the host has /tmp/mark")
	}
	if exec.Command("ip", "netns", "exec", a, "test", "-e", "/tmp/mark").Run() == nil {
		t.Errorf("ip netns exec sees the private /tmp: the docs say it does not")
	}
	if _, _, code := runBinary(t, nslua, "", "down", lab); code != 0 {
		t.Fatalf("down %s: exit %d", lab, code)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), "/run/nslua/"+lab+"/") {
		t.Errorf("mounts of %s left after down:\n%s", lab, mounts)
	}
	if _, err := os.Stat("/run/nslua/" + lab); err == nil {
		t.Errorf("/run/nslua/%s left after down", lab)
	}
}

// BenchmarkExecPrivate: `nslua exec` into a namespace with private state,
// by the C fast path and by the Go path, against `ip netns exec` (which
// applies none of it) and `nslua exec` of a plain namespace.
func BenchmarkExecPrivate(b *testing.B) {
	_, a, _, _ := keptPrivateLab(b)
	plain := execNamespace(b)
	ip := lookPath(b, "ip")
	b.Run("nslua-private-cgo", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			runOK(b, nslua, "exec", a, "--", "true")
		}
	})
	b.Run("nslua-private-go", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			runOK(b, nsluaPure, "exec", a, "--", "true")
		}
	})
	b.Run("nslua-plain-cgo", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			runOK(b, nslua, "exec", plain, "--", "true")
		}
	})
	b.Run("ip", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			runOK(b, ip, "netns", "exec", a, "true")
		}
	})
}

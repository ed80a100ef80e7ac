package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// privBinary copies the binary under test where any user may run it: the
// one TestMain builds sits in a directory only root can enter.
func privBinary(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nslua-priv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(nslua)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "nslua")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// privRun runs nslua through a wrapper that takes privileges away, and
// checks the outcome: exit status 1 and exactly one line on stderr that
// says what is missing. Nothing may be left behind.
func privRun(t *testing.T, wrapper ...string) {
	t.Helper()
	if _, err := exec.LookPath(wrapper[0]); err != nil {
		t.Skipf("%s is not installed", wrapper[0])
	}
	p := prefix(t)
	cleanupPrefix(t, p)
	bin := privBinary(t)
	args := append(wrapper[1:], bin, "--lab", p+"-lab", "-e", `ns.add("`+p+`a")`)
	cmd := exec.Command(wrapper[0], args...)
	cmd.Dir = filepath.Dir(bin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok {
		t.Fatalf("%v: want exit status 1, got %v\nstderr: %s", wrapper, err, stderr.String())
	}
	if ee.ExitCode() != 1 {
		t.Errorf("%v: exit status %d, want 1", wrapper, ee.ExitCode())
	}
	lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
	if len(lines) != 1 {
		t.Errorf("%v: %d lines on stderr, want 1:\n%s", wrapper, len(lines), stderr.String())
	}
	msg := lines[0]
	for _, want := range []string{"nslua: ", "must run as root", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%v: stderr lacks %q: %s", wrapper, want, msg)
		}
	}
	if !strings.HasPrefix(msg, "nslua: ") {
		t.Errorf("%v: stderr does not start with \"nslua: \": %s", wrapper, msg)
	}
	if stdout.Len() > 0 {
		t.Errorf("%v: stdout: %s", wrapper, stdout.String())
	}
	t.Logf("%v: %s", wrapper, msg)
}

// An unprivileged user: the lab's state directory under /run cannot be
// made, and nslua says why before any namespace is touched.
func TestPrivilegeNobody(t *testing.T) {
	privRun(t, "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
}

// root inside a user namespace without a mapping holds no capability
// over the host's namespaces: the first namespace operation fails.
func TestPrivilegeUnmappedUserNamespace(t *testing.T) {
	privRun(t, "unshare", "-U")
}

// root without CAP_SYS_ADMIN cannot make or pin namespaces.
func TestPrivilegeWithoutSysAdmin(t *testing.T) {
	privRun(t, "setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin")
}

// root without CAP_NET_ADMIN can make a namespace but not configure it.
func TestPrivilegeWithoutNetAdmin(t *testing.T) {
	privRun(t, "setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin")
}

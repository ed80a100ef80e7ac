package tests

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A rootless user of the tests: a fresh numeric uid with no passwd entry
// (setpriv needs none, and adding users would change the host's /etc and
// race with other tests' use of /etc/passwd; uid 65534 is shared with
// daemons other tests run), a home and a runtime directory of its own, and
// a copy of the binary and the examples it can read.
type rlUser struct {
	uid     int
	home    string
	runtime string
	bin     string // directory with nslua and the examples
}

func newRootlessUser(t *testing.T) *rlUser {
	t.Helper()
	var b [4]byte
	rand.Read(b[:])
	u := &rlUser{uid: 2100000000 + int(binary.LittleEndian.Uint32(b[:])%1000000)}
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} { // the test's own, 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	u.home, u.runtime, u.bin = filepath.Join(base, "home"), filepath.Join(base, "run"), filepath.Join(base, "bin")
	for _, d := range []string{u.home, u.runtime, u.bin} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob("../examples/*.lua")
	for _, f := range append(files, nslua) {
		if err := copyFile(f, filepath.Join(u.bin, filepath.Base(f))); err != nil {
			t.Fatal(err)
		}
	}
	sh(t, fmt.Sprintf("chmod 0755 %s/nslua && chown -R %d:%d %s", u.bin, u.uid, u.uid, base))
	t.Cleanup(func() {
		u.waitGone(t)
		if left := u.leftovers(); len(left) > 0 {
			t.Errorf("uid %d left behind: %s", u.uid, strings.Join(left, ", "))
		}
		for _, pid := range u.pids() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return u
}

func (u *rlUser) command(args ...string) *exec.Cmd {
	id := strconv.Itoa(u.uid)
	cmd := exec.Command("setpriv", append([]string{"--reuid=" + id, "--regid=" + id, "--clear-groups", "--",
		"env", "-i", "HOME=" + u.home, "XDG_RUNTIME_DIR=" + u.runtime, "PATH=" + os.Getenv("PATH"),
		"./nslua"}, args...)...)
	cmd.Dir = u.bin
	return cmd
}

// run runs nslua as the user and returns its output and exit status.
func (u *rlUser) run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := u.command(args...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("nslua %v as uid %d: %v", args, u.uid, err)
	}
	return string(out), code
}

func (u *rlUser) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, code := u.run(t, args...)
	if code != 0 {
		t.Fatalf("nslua %v as uid %d: exit status %d:\n%s", args, u.uid, code, out)
	}
	return out
}

// pids lists the processes of the user's uid (zombies included: they are
// still left behind, until reaped).
func (u *rlUser) pids() []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat("/proc/"+e.Name(), &st) == nil && int(st.Uid) == u.uid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// leftovers lists what the user left: processes of its uid, files of its
// uid outside its home and runtime directories (where the host keeps state
// and temporary files), and lab directories still in its own.
func (u *rlUser) leftovers() []string {
	var left []string
	for _, pid := range u.pids() {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		left = append(left, fmt.Sprintf("process %d (%s)", pid, strings.ReplaceAll(string(cmd), "\x00", " ")))
	}
	out, _ := exec.Command("find", "/tmp", "/run", "/var/tmp", "/var/lib", "/etc", "/dev/shm", "-xdev", "-uid", strconv.Itoa(u.uid),
		"-not", "-path", filepath.Dir(u.home)+"*").Output()
	for _, f := range strings.Fields(string(out)) {
		left = append(left, "file "+f)
	}
	for _, d := range []string{filepath.Join(u.runtime, "nslua", "labs"), filepath.Join(u.home, ".local/state/nslua/labs")} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			left = append(left, "lab directory "+filepath.Join(d, e.Name()))
		}
	}
	return left
}

// waitGone waits until the user has no process left (a killed run's
// namespaces die with their first process, asynchronously).
func (u *rlUser) waitGone(t *testing.T) {
	t.Helper()
	for i := 0; i < 100 && len(u.pids()) > 0; i++ {
		time.Sleep(50 * time.Millisecond)
	}
}

package lab

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
)

// down prints one line per run; each step only with -v; what it leaves
// (not its own) always.
func TestUndoSummary(t *testing.T) {
	var out strings.Builder
	u := &undoer{log: &out}
	u.kind = journal.KindNetns
	for range 201 {
		u.did("removed namespace x")
	}
	u.kind = journal.KindLink
	u.did("removed link a")
	u.did("left link b: it is not the one this lab made")
	u.kind = journal.KindProc
	u.did("stopped pid 1 (sleep)")
	u.did("killed pid 1 (sleep): still running 3 s after SIGTERM")
	if got, want := u.summary(), "removed 201 namespaces, 1 link, 1 process"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if got := out.String(); got != "  left link b: it is not the one this lab made\n" {
		t.Errorf("printed %q", got)
	}
	if got := (&undoer{}).summary(); got != "nothing was left to remove" {
		t.Errorf("empty summary %q", got)
	}
}

func TestCmdCheck(t *testing.T) {
	for _, c := range []struct {
		cmd  Cmd
		want string
	}{
		{Cmd{Argv: []string{"true"}, Env: map[string]string{"A=B": "c"}}, `"A=B" contains '='`},
		{Cmd{Argv: []string{"true"}, Env: map[string]string{"": "c"}}, "empty variable name"},
		{Cmd{Argv: []string{"true"}, Dir: "/nonexistent-nslua-dir"}, "dir /nonexistent-nslua-dir: no such file or directory"},
		{Cmd{Argv: []string{"true"}, Dir: "/etc/passwd"}, "not a directory"},
		{Cmd{Argv: []string{"true"}, Env: map[string]string{"A": "b"}, Dir: "/"}, ""},
	} {
		err := c.cmd.check()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.cmd, err, c.want)
		}
	}
}

// Only a program that is not there is 127; other ENOENTs are errors.
func TestStartFailure(t *testing.T) {
	missing := exec.Command("/nonexistent-nslua-prog").Start()
	res, err := startFailure("/nonexistent-nslua-prog", missing)
	if err != nil || res.Code != 127 {
		t.Errorf("missing program: %+v, %v; want 127", res, err)
	}
	notExec := exec.Command("/etc/passwd").Start()
	if res, err := startFailure("/etc/passwd", notExec); err != nil || res.Code != 126 {
		t.Errorf("not executable: %+v, %v; want 126", res, err)
	}
	pin := &os.PathError{Op: "open", Path: "/run/netns/x", Err: unix.ENOENT}
	if res, err := startFailure("true", pin); res != nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a deleted pin: %+v, %v; want the error itself", res, err)
	}
}

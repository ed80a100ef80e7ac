package sys

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

// fakeProc points ProcDir at a directory of hand-written process entries
// for the test's length.
func fakeProc(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := ProcDir
	ProcDir = dir
	t.Cleanup(func() { ProcDir = old })
	return dir
}

func TestStartTimeParsesAroundOddCommandNames(t *testing.T) {
	// field 22 after a command name holding ") (" and spaces
	rest := "S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 99"
	fakeProc(t, map[string]string{
		"10/stat": "10 (a) b (c) d) " + rest,
		"11/stat": "11 (zombie) Z 1 2 3",
		"12/stat": "12 no parenthesis",
	})
	if got := StartTime(10); got != 4242 {
		t.Errorf("StartTime(10) = %d, want 4242", got)
	}
	if !Alive(10, 4242) || !Alive(10, 0) {
		t.Error("process 10 with start time 4242 is not alive")
	}
	if Alive(10, 4243) {
		t.Error("a recycled PID (other start time) counts as alive")
	}
	if Alive(11, 0) {
		t.Error("a zombie counts as alive")
	}
	for _, pid := range []int{12, 13} {
		if StartTime(pid) != 0 || Alive(pid, 0) {
			t.Errorf("pid %d: a malformed or missing stat gives a start time or life", pid)
		}
	}
}

func TestPidsWithEnvMatchesWholeEntries(t *testing.T) {
	fakeProc(t, map[string]string{
		"20/environ":   "NSLUA_RUN=lab/1\x00HOME=/",
		"21/environ":   "HOME=/\x00NSLUA_RUN=lab/1\x00",
		"22/environ":   "HOME=/\x00NSLUA_RUN=lab/12\x00",
		"23/environ":   "XNSLUA_RUN=lab/1\x00",
		"24/environ":   "",
		"self/environ": "NSLUA_RUN=lab/1\x00",
	})
	got := PidsWithEnv("NSLUA_RUN=lab/1", 0)
	if !slices.Equal(got, []int{20, 21}) {
		t.Errorf("PidsWithEnv = %v, want [20 21]", got)
	}
	if got := PidsWithEnv("NSLUA_RUN=lab/1", 1); len(got) != 0 {
		t.Errorf("with a namespace filter and no ns/net files: %v, want none", got)
	}
}

func TestPidsByNetnsSeesThisProcessAndAChild(t *testing.T) {
	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Skipf("cannot start sleep: %v", err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	ino, err := NetnsInode(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	by, err := PidsByNetns()
	if err != nil {
		t.Fatal(err)
	}
	pids := by[ino]
	if !slices.Contains(pids, os.Getpid()) || !slices.Contains(pids, child.Process.Pid) {
		t.Fatalf("namespace %d: pids %v lack this process %d or its child %d", ino, pids, os.Getpid(), child.Process.Pid)
	}
	if !slices.IsSorted(pids) {
		t.Errorf("pids not ascending: %v", pids)
	}
	if st := StartTime(child.Process.Pid); st == 0 || !Alive(child.Process.Pid, st) {
		t.Errorf("the running child: start time %d, alive %v", st, Alive(child.Process.Pid, st))
	}
	child.Process.Kill()
	child.Wait()
	if Alive(child.Process.Pid, 0) {
		t.Error("a reaped child counts as alive")
	}
}

func TestPidsOfMissingProcDir(t *testing.T) {
	old := ProcDir
	ProcDir = filepath.Join(t.TempDir(), "none")
	defer func() { ProcDir = old }()
	if _, err := Pids(); err == nil || !strings.Contains(err.Error(), "list processes") {
		t.Fatalf("Pids without procfs: %v", err)
	}
}

func TestNeedRoot(t *testing.T) {
	perm := fmt.Errorf("create /run/netns: %w", os.ErrPermission)
	got := NeedRoot(perm)
	if !errors.Is(got, os.ErrPermission) || !strings.Contains(got.Error(), "must run as root") {
		t.Errorf("NeedRoot(permission) = %v", got)
	}
	other := errors.New("boom")
	if NeedRoot(other) != other || NeedRoot(nil) != nil {
		t.Error("NeedRoot changes an error that is not about permission")
	}
}

func TestDumpRetriesOnlyInterruptedDumps(t *testing.T) {
	calls := 0
	v, err := Dump("list links", "in x", func() ([]int, error) {
		calls++
		if calls < 3 {
			return nil, netlink.ErrDumpInterrupted
		}
		return []int{1}, nil
	})
	if err != nil || calls != 3 || len(v) != 1 {
		t.Fatalf("interrupted twice: %v %v after %d calls", v, err, calls)
	}
	calls = 0
	_, err = Dump("list links", "in x", func() ([]int, error) { calls++; return nil, netlink.ErrDumpInterrupted })
	if calls != DumpTries || !errors.Is(err, netlink.ErrDumpInterrupted) || !strings.Contains(err.Error(), "still changing") {
		t.Fatalf("always interrupted: %v after %d calls", err, calls)
	}
	calls = 0
	boom := errors.New("boom")
	_, err = Dump("list links", "in x", func() ([]int, error) { calls++; return nil, boom })
	if calls != 1 || !errors.Is(err, boom) || err.Error() != "list links in x: boom" {
		t.Fatalf("other error: %v after %d calls", err, calls)
	}
}

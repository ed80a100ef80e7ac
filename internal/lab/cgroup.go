package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/sys"
)

// Every process a run starts goes into a cgroup (v2) of the run's own,
// made under nslua's own cgroup when the first process starts: what those
// processes start in turn stays in it, whatever they do to their
// environment, session or namespaces, and even after nslua is killed -9.
// Teardown and `nslua down` stop the cgroup's members with the journaled
// processes, then kill what is left (cgroup.kill) and remove it. Only
// processes this run started are ever in it. Where there is no writable
// cgroup2 hierarchy, runs go without (the other means of finding
// processes remain).

// cgroupMounts are where a cgroup2 hierarchy is found: the unified layout,
// and the hybrid one of systemd hosts still on cgroup v1.
var cgroupMounts = []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}

// runCgroup is the run's cgroup once made.
type runCgroup struct {
	path  string
	fd    int  // an O_PATH-free directory fd, for CLONE_INTO_CGROUP
	clone bool // starting processes straight into it works
}

// cgroupBase is the cgroup2 directory nslua itself is in, or "".
func cgroupBase() string {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	own := ""
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			own = rest
		}
	}
	if own == "" {
		return ""
	}
	for _, m := range cgroupMounts {
		var fs unix.Statfs_t
		if unix.Statfs(m, &fs) == nil && fs.Type == unix.CGROUP2_SUPER_MAGIC {
			dir := filepath.Join(m, own)
			if unix.Access(dir, unix.W_OK) == nil {
				return dir
			}
		}
	}
	return ""
}

// cgroup makes the run's cgroup on first use; nil where there is none.
// The caller holds no lock.
func (l *Lab) cgroup() *runCgroup {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cg != nil || l.cgTried {
		return l.cg
	}
	l.cgTried = true
	base := cgroupBase()
	if base == "" {
		return nil
	}
	path := filepath.Join(base, fmt.Sprintf("nslua-%s-%d", l.Name, os.Getpid()))
	e, err := l.j.Add(journal.Entry{Kind: journal.KindCgroup, Name: path})
	if err != nil {
		return nil
	}
	if err := unix.Mkdir(path, 0o755); err != nil {
		l.j.Gone(e)
		return nil
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Rmdir(path)
		l.j.Gone(e)
		return nil
	}
	l.j.Done(e)
	l.cg = &runCgroup{path: path, fd: fd, clone: true}
	return l.cg
}

// startInCgroup starts cmd inside the run's cgroup: straight into it
// (clone3 with CLONE_INTO_CGROUP) where the kernel can, otherwise moved
// there right after the start. It returns the Cmd that was started.
func (l *Lab) startInCgroup(cmd *exec.Cmd, start func(*exec.Cmd) error) (*exec.Cmd, error) {
	cg := l.cgroup()
	if cg == nil {
		return cmd, start(cmd)
	}
	l.mu.Lock()
	clone := cg.clone
	l.mu.Unlock()
	if clone {
		into := *cmd.SysProcAttr
		into.UseCgroupFD, into.CgroupFD = true, cg.fd
		try := &exec.Cmd{Path: cmd.Path, Args: cmd.Args, Env: cmd.Env, Dir: cmd.Dir,
			Stdin: cmd.Stdin, Stdout: cmd.Stdout, Stderr: cmd.Stderr, SysProcAttr: &into}
		if err := start(try); err == nil {
			return try, nil
		}
	}
	if err := start(cmd); err != nil {
		return cmd, err
	}
	if clone { // the kernel or the cgroup refuses clone3 into it: move instead
		l.mu.Lock()
		cg.clone = false
		l.mu.Unlock()
	}
	os.WriteFile(filepath.Join(cg.path, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0)
	return cmd, nil
}

// releaseCgroup closes the directory fd (the cgroup stays for undo).
func (l *Lab) releaseCgroup() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cg != nil {
		unix.Close(l.cg.fd)
		l.cg = nil
	}
}

// cgroupVictims lists the processes in the journaled cgroups.
func cgroupVictims(entries []*journal.Entry) []victim {
	var vs []victim
	for _, e := range entries {
		if e.Kind != journal.KindCgroup || !e.Done {
			continue
		}
		data, _ := os.ReadFile(filepath.Join(e.Name, "cgroup.procs"))
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				vs = append(vs, victim{pid, sys.StartTime(pid), false, "in the run's cgroup"})
			}
		}
	}
	return vs
}

// removeCgroup kills whatever is still in a run's cgroup (what was forked
// during the SIGTERM grace) and removes it.
func (u *undoer) removeCgroup(e *journal.Entry) error {
	if !strings.Contains(filepath.Base(e.Name), "nslua-") {
		return fmt.Errorf("cgroup %s: not one of nslua's", e.Name)
	}
	if _, err := os.Lstat(e.Name); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	deadline := time.Now().Add(3 * time.Second)
	for populated(e.Name) && time.Now().Before(deadline) {
		if os.WriteFile(filepath.Join(e.Name, "cgroup.kill"), []byte("1"), 0) != nil {
			// Before Linux 5.14: kill the members one by one.
			for _, v := range cgroupVictims([]*journal.Entry{e}) {
				unix.Kill(v.pid, unix.SIGKILL)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := unix.Rmdir(e.Name); err != nil && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("remove cgroup %s: %w", e.Name, err)
	}
	u.did("removed cgroup %s", e.Name)
	return nil
}

// populated: the cgroup (or one below it) still has a live process.
func populated(path string) bool {
	data, err := os.ReadFile(filepath.Join(path, "cgroup.events"))
	if err != nil {
		return false
	}
	return bytes.Contains(data, []byte("populated 1"))
}

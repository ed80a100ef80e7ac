package luabind

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/nslua/nslua/internal/sys"
	"golang.org/x/sys/unix"
)

// The child subreaper: what the run's processes leave orphaned (a daemon's
// double fork, `setsid env -i sleep 100 &` from an exec, workers of a
// daemon that was killed) becomes this process's child, wherever it went
// and whatever its environment, instead of init's. At the end of the run
// every child still alive is the run's: sweepOrphans stops them.

func startReaping() {
	if unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != nil {
		return
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, unix.SIGCHLD)
	go func() {
		for range ch {
			reapOrphans()
		}
	}()
}

// reapOrphans collects the exit status of children that were orphans
// given to this process, so that they do not stay zombies. A child that
// Go started itself (os/exec) has a pidfd open here, through which Go
// waits for it: that one is left to Go.
func reapOrphans() {
	self := strconv.Itoa(os.Getpid())
	sys.Reap(func(isOwn func(int) bool) {
		mine := goChildren()
		for _, pid := range liveOrZombieChildren() {
			if mine[pid] || isOwn(pid) {
				continue
			}
			if st := procStat(pid); len(st) > 1 && st[1] == self && st[0] == "Z" {
				var ws unix.WaitStatus
				unix.Wait4(pid, &ws, unix.WNOHANG, nil)
			}
		}
	})
}

// liveOrZombieChildren are the PIDs that the threads' children files list
// (zombies included), or every PID where the kernel has no such files.
func liveOrZombieChildren() []int {
	tasks, _ := os.ReadDir("/proc/self/task")
	var pids []int
	for _, t := range tasks {
		data, err := os.ReadFile("/proc/self/task/" + t.Name() + "/children")
		if errors.Is(err, os.ErrNotExist) && t.Name() == strconv.Itoa(os.Getpid()) {
			return allPids()
		}
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func allPids() []int {
	dir, _ := os.ReadDir("/proc")
	var pids []int
	for _, de := range dir {
		if pid, err := strconv.Atoi(de.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// goChildren are the PIDs that this process holds a pidfd of.
func goChildren() map[int]bool {
	pids := map[int]bool{}
	fds, _ := os.ReadDir("/proc/self/fdinfo")
	for _, fd := range fds {
		data, _ := os.ReadFile("/proc/self/fdinfo/" + fd.Name())
		_, rest, ok := strings.Cut(string(data), "\nPid:\t")
		if !ok {
			continue
		}
		v, _, _ := strings.Cut(rest, "\n")
		if pid, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			pids[pid] = true
		}
	}
	return pids
}

// sweepOrphans stops the children of this process that are still running
// after the teardown: SIGTERM, up to 1 s, then SIGKILL; their own children
// become ours in turn and go the same way. It does not wait for them (a
// wait could take a child from the code that started it); they are
// reaped when this process exits, which is what follows.
func sweepOrphans(log io.Writer) []error {
	seen := map[int]bool{}
	for round := 0; round < 100; round++ {
		kids := liveChildren()
		if len(kids) == 0 {
			return nil
		}
		for _, pid := range kids {
			if !seen[pid] {
				seen[pid] = true
				fmt.Fprintf(log, "nslua: teardown: stopped pid %d (%s), left behind by the run's processes\n", pid, comm(pid))
				unix.Kill(pid, unix.SIGTERM)
			}
		}
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) && len(liveChildren()) > 0 {
			time.Sleep(5 * time.Millisecond)
		}
		for _, pid := range liveChildren() {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
	return []error{fmt.Errorf("processes left behind keep appearing: %v", liveChildren())}
}

// liveChildren lists this process's children that are not zombies, from
// each thread's /proc/self/task/TID/children (an orphan is given to one of
// them), not a scan of every process on the machine.
func liveChildren() []int {
	tasks, _ := os.ReadDir("/proc/self/task")
	var pids []int
	for _, t := range tasks {
		data, err := os.ReadFile("/proc/self/task/" + t.Name() + "/children")
		if errors.Is(err, os.ErrNotExist) && t.Name() == strconv.Itoa(os.Getpid()) {
			return scanChildren() // a kernel without CONFIG_PROC_CHILDREN
		}
		for _, f := range strings.Fields(string(data)) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			if st := procStat(pid); len(st) > 0 && st[0] != "Z" && st[0] != "X" {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// scanChildren finds the children in every process's /proc/PID/stat.
func scanChildren() []int {
	self := strconv.Itoa(os.Getpid())
	dir, _ := os.ReadDir("/proc")
	var pids []int
	for _, de := range dir {
		pid, err := strconv.Atoi(de.Name())
		if err != nil {
			continue
		}
		if st := procStat(pid); len(st) > 1 && st[1] == self && st[0] != "Z" && st[0] != "X" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStat is /proc/PID/stat from the state field on.
func procStat(pid int) []string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

func comm(pid int) string {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(data))
}

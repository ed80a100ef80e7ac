package lab

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsfs"
	"github.com/nslua/nslua/internal/sys"
)

// victim is a process to stop: one the lab started, or one found inside a
// namespace the lab created (left there, it would keep the namespace alive
// and invisible after the unpin).
type victim struct {
	pid   int
	start uint64
	group bool
	what  string
}

func (u *undoer) stopProcesses(entries []*journal.Entry) {
	var victims []victim
	seen := map[int]bool{} // a daemon of ours is also found in its namespace
	owned := map[uint64]string{}
	for _, e := range entries {
		switch {
		case e.Kind == journal.KindProc && e.PID > 0 && !seen[e.PID]:
			seen[e.PID] = true
			victims = append(victims, victim{e.PID, e.Start, true, e.Cmd})
		case e.Kind == journal.KindNetns && e.Inode != 0 && pinHolds(e):
			owned[e.Inode] = e.Name
		}
	}
	if u.runNs == 0 { // all of the run's processes, not one namespace's
		for _, v := range cgroupVictims(entries) {
			if !seen[v.pid] {
				seen[v.pid] = true
				victims = append(victims, v)
			}
		}
	}
	for _, pid := range markedPids(u.run, u.runNs) {
		if !seen[pid] {
			seen[pid] = true
			victims = append(victims, victim{pid, sys.StartTime(pid), false, "started by this run"})
		}
	}
	if len(owned) > 0 {
		if byIno, err := pidsByNetns(); err == nil {
			for ino, name := range owned {
				for _, pid := range byIno[ino] {
					if !seen[pid] {
						seen[pid] = true
						victims = append(victims, victim{pid, sys.StartTime(pid), false, "in " + name})
					}
				}
			}
		}
	}
	u.terminate(victims)
}

// pinHolds reports whether e's pin still holds the namespace the lab made.
// The kernel reuses a freed namespace's inode number: after a crash, a
// namespace someone else deleted may share its number with a container's,
// whose processes are not the lab's. (The run's own processes are found by
// their marker and cgroup even where the pin is gone.)
func pinHolds(e *journal.Entry) bool {
	path := nsfs.PinPath(e.Name)
	ino, err := nsfs.Inode(path)
	return err == nil && ino == e.Inode && nsfs.IsPinned(path)
}

// marker is the NSLUA_RUN value of a journaled run that started processes
// ("" when it started none: then there is nothing to look for).
func marker(st *journal.State) string {
	for _, e := range st.Entries {
		if e.Kind == journal.KindProc {
			return runID(st.Name, st.PID)
		}
	}
	return ""
}

// markedPids finds the processes that carry a run's marker in their
// environment: what a run started keeps it through forks and detaching, so
// a daemon that left its process group, or a background job of an exec,
// is found wherever it went.
func markedPids(run string, nsIno uint64) []int {
	if run == "" {
		return nil
	}
	return sys.PidsWithEnv(RunEnv+"="+run, nsIno)
}

// terminate sends SIGTERM to every victim, waits up to 3 s for all of them
// together, then SIGKILLs whoever is left. It reports the ones that were
// running (a journaled daemon may have exited long ago), all of them
// picked before any signal: a group's signal also stops other victims.
func (u *undoer) terminate(victims []victim) {
	var live []victim
	for _, v := range victims {
		if sys.Alive(v.pid, v.start) {
			live = append(live, v)
		}
	}
	for _, v := range live {
		signal(v, unix.SIGTERM)
		u.did("stopped pid %d (%s)", v.pid, v.what)
	}
	deadline := time.Now().Add(3 * time.Second)
	for len(live) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		live = stillAlive(live)
	}
	for _, v := range live {
		signal(v, unix.SIGKILL)
		u.did("killed pid %d (%s): still running 3 s after SIGTERM", v.pid, v.what)
	}
}

func signal(v victim, sig unix.Signal) {
	if v.group {
		unix.Kill(-v.pid, sig) // its own group: daemons' children too
	}
	unix.Kill(v.pid, sig)
}

func stillAlive(vs []victim) []victim {
	var out []victim
	for _, v := range vs {
		if sys.Alive(v.pid, v.start) {
			out = append(out, v)
		}
	}
	return out
}

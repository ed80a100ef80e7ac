package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsexec"
	"github.com/nslua/nslua/internal/nsfs"
)

// undoer removes journaled resources. The same code serves a run's own
// teardown and `nslua down` after a crash: the journal is the only truth.
type undoer struct {
	run     string // the NSLUA_RUN marker of the run's processes ("" = none)
	runNs   uint64 // only marked processes in this namespace (0 = anywhere)
	log     io.Writer
	verbose bool // say what was removed (down), not only what failed
	errs    []error
}

func (u *undoer) did(format string, args ...any) {
	if u.verbose {
		fmt.Fprintf(u.log, "  "+format+"\n", args...)
	}
}

func (u *undoer) fail(err error) {
	fmt.Fprintf(u.log, "nslua: teardown: %v\n", err)
	u.errs = append(u.errs, err)
}

// undoAll removes entries, given newest first. Processes go first, all at
// once (everything else may be in use by them), then the rest in reverse
// order of creation.
func undoAll(entries []*journal.Entry, l *Lab, log io.Writer) []error {
	u := &undoer{log: log}
	if l != nil {
		u.run = l.markerIfStarted()
	}
	return u.undo(entries, l)
}

func (u *undoer) undo(entries []*journal.Entry, l *Lab) []error {
	u.stopProcesses(entries)
	for _, e := range entries {
		var err error
		switch e.Kind {
		case journal.KindLink:
			err = u.removeLink(e)
		case journal.KindQdisc:
			err = u.removeQdisc(e)
		case journal.KindEtcFile:
			err = u.removeEtcFile(e)
		case journal.KindEtcDir:
			u.removeEtcDir(e)
		case journal.KindNetns, journal.KindPin:
			err = u.unpin(e)
		}
		if err != nil {
			u.fail(err)
			continue
		}
		if l != nil && e.Kind != journal.KindProc {
			l.j.Gone(e)
		}
	}
	return u.errs
}

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
		case e.Kind == journal.KindNetns && e.Inode != 0:
			owned[e.Inode] = e.Name
		}
	}
	for _, pid := range markedPids(u.run, u.runNs) {
		if !seen[pid] {
			seen[pid] = true
			victims = append(victims, victim{pid, startTime(pid), false, "started by this run"})
		}
	}
	if len(owned) > 0 {
		if byIno, err := pidsByNetns(); err == nil {
			for ino, name := range owned {
				for _, pid := range byIno[ino] {
					if !seen[pid] {
						seen[pid] = true
						victims = append(victims, victim{pid, startTime(pid), false, "in " + name})
					}
				}
			}
		}
	}
	u.terminate(victims)
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
	marker := []byte(RunEnv + "=" + run + "\x00")
	dir, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, de := range dir {
		pid := atoiOrZero(de.Name())
		if pid == 0 || pid == self {
			continue
		}
		env, err := os.ReadFile("/proc/" + de.Name() + "/environ")
		if err != nil || !(bytes.HasPrefix(env, marker) || bytes.Contains(env, append([]byte{0}, marker...))) {
			continue
		}
		if nsIno != 0 {
			if ino, err := nsfs.Inode("/proc/" + de.Name() + "/ns/net"); err != nil || ino != nsIno {
				continue
			}
		}
		pids = append(pids, pid)
	}
	return pids
}

// terminate sends SIGTERM to every victim, waits up to 3 s for all of them
// together, then SIGKILLs whoever is left. It reports the ones that were
// running (a journaled daemon may have exited long ago), all of them
// picked before any signal: a group's signal also stops other victims.
func (u *undoer) terminate(victims []victim) {
	var live []victim
	for _, v := range victims {
		if alive(v.pid, v.start) {
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
		if alive(v.pid, v.start) {
			out = append(out, v)
		}
	}
	return out
}

// alive: the PID exists, is the same process (start time), not a zombie.
func alive(pid int, start uint64) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) || s[i+2] == 'Z' {
		return false
	}
	return start == 0 || startTime(pid) == start
}

func (u *undoer) unpin(e *journal.Entry) error {
	path := nsfs.PinPath(e.Name)
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if e.Done {
		if ino, err := nsfs.Inode(path); err == nil && ino != e.Inode {
			u.did("left %s: it is another namespace now (inode %d, ours was %d)", path, ino, e.Inode)
			return nil
		}
	}
	if err := nsfs.Unpin(e.Name); err != nil {
		return err
	}
	u.did("removed namespace %s", e.Name)
	return nil
}

func (u *undoer) removeLink(e *journal.Entry) error {
	h, err := handleFor(e)
	if err != nil || h == nil {
		return err // the namespace is gone, and its links with it
	}
	defer h.Close()
	link, err := h.LinkByName(e.Name)
	if err != nil {
		return nil // already gone (a veth dies with its peer's namespace)
	}
	if e.Done && link.Attrs().Index != e.Index {
		u.did("left link %s: it is not the one this lab made", e.Name)
		return nil
	}
	if err := h.LinkDel(link); err != nil {
		return fmt.Errorf("delete link %s: %w", e.Name, err)
	}
	u.did("removed link %s", e.Name)
	return nil
}

// handleFor opens a netlink handle in the namespace of a link entry; nil
// when that namespace no longer is the one recorded.
func handleFor(e *journal.Entry) (*netlink.Handle, error) {
	if e.NsPath == "" {
		return netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	if ino, err := nsfs.Inode(e.NsPath); err != nil || ino != e.NsIno {
		return nil, nil
	}
	fd, err := unix.Open(e.NsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil
	}
	defer unix.Close(fd)
	return nsfs.HandleAt(fd)
}

func (u *undoer) removeEtcFile(e *journal.Entry) error {
	path := filepath.Join(nsexec.EtcRoot, e.Name)
	info, err := os.Lstat(path)
	if err != nil {
		return nil
	}
	if !info.Mode().IsRegular() {
		u.did("left %s: not a regular file any more", path)
		return nil
	}
	if e.Backup != "" {
		return restore(path, e.Backup)
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	u.did("removed %s", path)
	return nil
}

// restore puts back a file the lab overwrote, in place (same inode).
func restore(path, backup string) error {
	old, err := os.ReadFile(backup)
	if err != nil {
		return fmt.Errorf("restore %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("restore %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.Write(old); err != nil {
		return fmt.Errorf("restore %s: %w", path, err)
	}
	return os.Remove(backup)
}

// removeEtcDir removes a directory the lab made, if nothing else is in it.
func (u *undoer) removeEtcDir(e *journal.Entry) {
	path := filepath.Join(nsexec.EtcRoot, e.Name)
	if err := unix.Rmdir(path); err == nil {
		u.did("removed %s", path)
	}
}

// Down removes what the journal of lab name lists. It reports on out and
// is safe to repeat: a lab that is not there is not an error.
func Down(name string, out io.Writer) error {
	lock, err := journal.Lock(name)
	if err != nil {
		return err
	}
	defer lock.Close()
	st, err := journal.Read(name)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(out, "lab %s: nothing to remove\n", name)
		return journal.RemoveDir(name)
	}
	if err != nil {
		return fmt.Errorf("lab %q: read journal: %w", name, err)
	}
	fmt.Fprintf(out, "lab %s:\n", name)
	u := &undoer{log: out, verbose: true, run: marker(st)}
	if errs := u.undo(st.Live(), nil); len(errs) > 0 {
		return fmt.Errorf("lab %q: %w", name, errors.Join(errs...))
	}
	return journal.RemoveDir(name)
}

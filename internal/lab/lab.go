// Package lab is nslua's engine: a Lab owns everything one run creates —
// namespaces, links, /etc/netns files, processes — records each in the
// lab's journal before creating it, and undoes it all, in reverse, through
// one mechanism (undo.go) that also serves `nslua down` after a crash.
package lab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/nslua/nslua/internal/etcfs"
	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsfs"
)

// The kinds of failure callers tell apart with errors.Is: a name that is
// taken (namespace, link, route), and one that names nothing (namespace,
// link; see NotFoundError).
var (
	ErrExists   = nsfs.ErrExists
	ErrNotFound = nsfs.ErrNotFound
)

// NotFoundError is a named thing missing from a namespace: "no link eth0
// in ns1". It matches ErrNotFound.
type NotFoundError struct {
	What, Name, In string
}

func (e *NotFoundError) Error() string        { return fmt.Sprintf("no %s %s in %s", e.What, e.Name, e.In) }
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Lab is one running lab.
type Lab struct {
	Name string
	Dir  string
	Log  io.Writer // where teardown reports what it did and what failed

	j *journal.Journal

	mu       sync.Mutex
	byInode  map[uint64]*Netns
	host     *Netns
	etcFiles map[string]etcfs.ID // /etc/netns files this run created or backed up
	kept     bool
	closed   bool
	runID    string // marks every process this run starts (RunEnv)
	started  bool   // a process was started: teardown looks for runID
	cg       *runCgroup
	cgTried  bool // the cgroup was made, or could not be
	seq      int
	closers  []func() // OnClose
}

// Start takes the lab's lock and opens a fresh journal. A journal left by a
// run that died is undone first; a kept lab must be brought down by hand.
func Start(name, script string, log io.Writer) (*Lab, error) {
	lock, err := journal.Lock(name)
	if err != nil {
		return nil, err
	}
	if err := clearPrevious(name, log); err != nil {
		lock.Close()
		return nil, err
	}
	j, err := journal.Create(name, lock, script)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return &Lab{
		Name: name, Dir: j.Dir, Log: log, j: j, runID: runID(name, os.Getpid()),
		byInode:  map[uint64]*Netns{},
		etcFiles: map[string]etcfs.ID{},
	}, nil
}

func clearPrevious(name string, log io.Writer) error {
	st, err := journal.Read(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lab %q: read previous journal: %w", name, err)
	}
	if st.Kept && !st.Rebooted() {
		return fmt.Errorf("lab %q is up (kept by pid %d): run `nslua down %s` first", name, st.PID, name)
	}
	if len(st.Live()) == 0 {
		return nil
	}
	if st.Kept {
		fmt.Fprintf(log, "nslua: lab %q was kept before a reboot: removing its /etc/netns files\n", name)
	} else {
		fmt.Fprintf(log, "nslua: lab %q: removing what the run of pid %d left behind\n", name, st.PID)
	}
	(&undoer{log: log, run: marker(st)}).undo(st.Live(), nil)
	return nil
}

// RunEnv is the environment variable that marks the processes of a run.
const RunEnv = "NSLUA_RUN"

// runID is the marker value of the run of lab name by process pid.
func runID(name string, pid int) string { return fmt.Sprintf("%s/%d", name, pid) }

// StartedProcesses reports whether the run has started a process: only
// then can processes of the run be left (a run's orphans descend from
// what it started).
func (l *Lab) StartedProcesses() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.started
}

// markerIfStarted is runID once the run has started a process: scanning
// every process's environment costs milliseconds that a run which started
// nothing need not pay.
func (l *Lab) markerIfStarted() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started {
		return ""
	}
	return l.runID
}

// Keep leaves the lab up at exit; `nslua down` removes it later.
func (l *Lab) Keep() error {
	l.mu.Lock()
	l.kept = true
	l.mu.Unlock()
	return l.j.Keep()
}

// protectKept writes the default resolv.conf of every namespace of a kept
// lab, so that `ip netns exec` users are protected as nslua's are.
func (l *Lab) protectKept(nss []*Netns) {
	private := 0
	for _, n := range nss {
		if err := n.ensureResolv(); err != nil {
			fmt.Fprintf(l.Log, "nslua: %s: own resolv.conf: %v\n", n.Name, err)
		}
		if n.priv != nil {
			private++ // mounted by the first `nslua exec`, if not yet
		}
	}
	if private > 0 {
		fmt.Fprintf(l.Log, "nslua: lab %q kept: `nslua exec NAME CMD` runs CMD with the namespace's private /run, /var/lib and /tmp; `ip netns exec` does not (it sees the host's)\n", l.j.Name)
	}
}

// Kept reports whether Keep was called.
func (l *Lab) Kept() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.kept
}

// Host returns the namespace nslua was started in.
func (l *Lab) Host() (*Netns, error) {
	l.mu.Lock()
	host := l.host
	l.mu.Unlock()
	if host != nil {
		return host, nil
	}
	n, err := openHost(l)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.host != nil { // another goroutine was first
		n.release()
		return l.host, nil
	}
	l.host = n
	return n, nil
}

// nextSeq numbers log files and backups.
func (l *Lab) nextSeq() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	return l.seq
}

func (l *Lab) checkOpen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("the lab has been torn down")
	}
	return nil
}

// Close ends the run: with keep, it releases what this process holds and
// leaves the lab up; otherwise it tears everything down. It returns the
// problems met, each already reported on Log.
func (l *Lab) Close() []error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	kept := l.kept
	nss := l.allNetns()
	closers := l.closers
	l.closers = nil
	l.mu.Unlock()
	defer l.releaseCgroup()
	runClosers(closers)

	if kept {
		l.protectKept(nss)
		for _, n := range nss {
			n.release()
		}
		l.j.Close(false)
		return nil
	}
	errs := undoAll(l.j.Live(), l, l.Log)
	for _, n := range nss {
		n.release()
	}
	if len(errs) > 0 {
		l.j.Close(false) // keep the journal: `nslua down` can retry
		return errs
	}
	if err := l.j.Close(true); err != nil {
		fmt.Fprintf(l.Log, "nslua: teardown: %v\n", err)
		return []error{err}
	}
	return nil
}

func (l *Lab) allNetns() []*Netns {
	var nss []*Netns
	for _, n := range l.byInode {
		nss = append(nss, n)
	}
	if l.host != nil {
		nss = append(nss, l.host)
	}
	return nss
}

// List returns the pinned namespace names.
func List() ([]string, error) { return nsfs.List() }

// logPath picks a log file name in the lab's directory.
func (l *Lab) logPath(ns, prog string) string {
	return filepath.Join(l.Dir, "logs", fmt.Sprintf("%s-%s-%d.log", ns, filepath.Base(prog), l.nextSeq()))
}

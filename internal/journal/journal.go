// Package journal keeps, for each lab, the write-ahead record of everything
// the lab creates: under /run/nslua/LAB/ for what dies with the machine
// (namespaces, links, processes), under /var/lib/nslua/LAB/ for what does
// not (/etc/netns files and backups: persist.go). An entry is written
// before the resource exists, so that after any crash `nslua down` knows
// everything that may exist, and its identity (inode, ifindex, start time)
// once it does, so that nothing someone else made under the same name is
// ever removed.
package journal

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// BaseDir holds one directory per lab. Tests may point it at a directory
// of their own.
var BaseDir = "/run/nslua"

// Kind is what an entry records; its value is what the journal file holds.
type Kind string

// Kinds of entries. A kind a later nslua adds is kept by Read, and undone
// by nobody: teardown skips what it does not know.
const (
	KindNetns   Kind = "netns"   // a namespace the lab created and pinned
	KindPin     Kind = "pin"     // a pin of an existing namespace (ns.pin)
	KindLink    Kind = "link"    // a link in a namespace the lab did not create
	KindEtcFile Kind = "etcfile" // a file under /etc/netns written by the lab
	KindEtcDir  Kind = "etcdir"  // a directory under /etc/netns made by the lab
	KindProc    Kind = "proc"    // a process the lab started
	KindNft     Kind = "nft"     // a lab's nftables table in a namespace it did not create
	KindCgroup  Kind = "cgroup"  // the run's cgroup (v2), holding every process it started; Name is its directory
	KindQdisc   Kind = "qdisc"   // link shaping in a namespace the lab did not create
	KindHost    Kind = "host"    // another host holding part of the lab; Name is its name, Cmd how to reach it
	// KindBridge is a bridge in a namespace the lab created. It dies with
	// its namespace; teardown only sets it down first (undo.go).
	KindBridge Kind = "bridge"
)

// op is what a record does to the journal's state.
type op string

const (
	opLab  op = "lab"  // the run's header: owner PID and script
	opAdd  op = "add"  // an entry, before its resource exists
	opDone op = "done" // the entry's identity, once the resource exists
	opGone op = "gone" // the resource was removed during the run
	opKeep op = "keep" // the lab is left up deliberately
)

// Entry is one resource. Identity fields are filled in by Done once the
// resource exists; an entry without them was intended but may not exist.
type Entry struct {
	Seq    int    `json:"seq"`
	Kind   Kind   `json:"kind"`
	Name   string `json:"name,omitempty"`   // netns/pin/link name, or etc path (relative to /etc/netns)
	NsPath string `json:"ns,omitempty"`     // for links and procs: pin path of the namespace ("" = host)
	NsIno  uint64 `json:"ns_ino,omitempty"` // inode of that namespace
	Backup string `json:"backup,omitempty"` // etcfile: copy of the file the lab overwrote
	Owner  string `json:"owner,omitempty"`  // etcfile: the lab that journaled it
	From   string `json:"from,omitempty"`   // etcfile with Backup: the lab whose file it overwrote
	Cmd    string `json:"cmd,omitempty"`

	Private string   `json:"private,omitempty"` // netns: directory of its private /run, /tmp, /var/lib
	Share   []string `json:"share,omitempty"`   // netns: paths under them shared with the host

	Done  bool   `json:"done,omitempty"`
	Inode uint64 `json:"inode,omitempty"` // netns/pin: namespace inode; etcfile/etcdir: the file's
	Dev   uint64 `json:"dev,omitempty"`   // etcfile/etcdir: device of the file
	Birth int64  `json:"birth,omitempty"` // etcfile/etcdir: birth time (ns), where the fs keeps one
	Index int    `json:"index,omitempty"` // link ifindex
	PID   int    `json:"pid,omitempty"`
	Start uint64 `json:"start,omitempty"` // proc start time (clock ticks since boot)
	Gone  bool   `json:"gone,omitempty"`  // removed again during the run
}

type record struct {
	Op op `json:"op"`
	Entry
	PID    int    `json:"owner_pid,omitempty"`
	Script string `json:"script,omitempty"`
	Boot   string `json:"boot,omitempty"` // lab: the boot it ran in (BootID)
}

// Journal is the open, locked journal of a running lab.
type Journal struct {
	Name string
	Dir  string

	mu      sync.Mutex
	file    *os.File
	pfile   *os.File // the persistent journal, opened on the first etc record
	lock    *os.File
	script  string
	entries []*Entry
	kept    bool
	backups int
}

// Dir returns the state directory of lab name.
func Dir(name string) string { return filepath.Join(BaseDir, name) }

// ValidateLabName keeps lab names usable as one path element.
func ValidateLabName(name string) error {
	switch {
	case name == "":
		return errors.New("lab name is empty")
	case len(name) > 200:
		return errors.New("lab name is longer than 200 bytes")
	case strings.ContainsAny(name, "/\x00"), name == ".", name == "..", strings.HasPrefix(name, "."):
		return fmt.Errorf("lab name %q is not a plain file name", name)
	case strings.HasPrefix(name, "-"):
		return fmt.Errorf("lab name %q starts with '-': it would read as an option", name)
	}
	return nil
}

// Create starts a new journal for lab name, which the caller has locked.
func Create(name string, lock *os.File, script string) (*Journal, error) {
	dir := Dir(name)
	f, err := os.OpenFile(filepath.Join(dir, "journal"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lab %q: create journal: %w", name, err)
	}
	// The previous run's persistent records were undone (Lab.Start) or are
	// another run's to lose: a fresh journal starts with none.
	if err := os.RemoveAll(PersistDir(name)); err != nil {
		f.Close()
		return nil, fmt.Errorf("lab %q: %w", name, err)
	}
	j := &Journal{Name: name, Dir: dir, file: f, lock: lock, script: script}
	if err := j.writeFile(f, j.labRecord(), false); err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

func (j *Journal) labRecord() record {
	return record{Op: opLab, PID: os.Getpid(), Script: j.script, Boot: BootID()}
}

// write appends a record about an entry of kind. Once write(2) returns,
// every process sees it, and it survives a kill -9 of this one. Records of
// resources that outlive a reboot (/etc/netns files) go to the persistent
// journal and are fsynced when durable: after a power loss no namespace,
// link or process is left to undo, and an fsync costs ~0.3 ms, the price
// of a whole namespace.
func (j *Journal) write(r record, kind Kind, durable bool) error {
	if !persistent(kind) {
		return j.writeFile(j.file, r, false)
	}
	if err := j.openPersistent(); err != nil {
		return err
	}
	return j.writeFile(j.pfile, r, durable)
}

// Add records the intent to create a resource and returns its entry.
func (j *Journal) Add(e Entry) (*Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e.Seq = len(j.entries) + 1
	// A directory's record needs no fsync of its own: the record of the
	// file made in it next is synced, and this one, before it, with it (a
	// power loss in between leaves at most an empty directory).
	if err := j.write(record{Op: opAdd, Entry: e}, e.Kind, e.Kind != KindEtcDir); err != nil {
		return nil, err
	}
	entry := e
	j.entries = append(j.entries, &entry)
	return &entry, nil
}

// Done records the identity of a resource that now exists.
func (j *Journal) Done(e *Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	e.Done = true
	// A created file's identity is what lets teardown tell it from one
	// someone else put in its place; a directory is only ever rmdir'ed.
	return j.write(record{Op: opDone, Entry: *e}, e.Kind, e.Kind == KindEtcFile)
}

// Gone records that a resource was removed (or never made) during the run.
func (j *Journal) Gone(e *Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	e.Gone = true
	return j.write(record{Op: opGone, Entry: Entry{Seq: e.Seq}}, e.Kind, false)
}

// Keep marks the lab as deliberately left up.
func (j *Journal) Keep() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.kept = true
	if err := j.writeFile(j.file, record{Op: opKeep}, true); err != nil {
		return err
	}
	if j.pfile == nil {
		return nil // written when the persistent journal is opened
	}
	return j.writeFile(j.pfile, record{Op: opKeep}, true)
}

// Live returns the entries not yet removed, newest first: teardown order.
func (j *Journal) Live() []*Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return liveReversed(j.entries)
}

func liveReversed(entries []*Entry) []*Entry {
	var live []*Entry
	for i := len(entries) - 1; i >= 0; i-- {
		if !entries[i].Gone {
			live = append(live, entries[i])
		}
	}
	return live
}

// Close releases the lock. With remove, the lab's directory goes too: the
// lab is fully torn down. Otherwise the journal stays for `nslua down`.
func (j *Journal) Close(remove bool) error {
	j.file.Close()
	if j.pfile != nil {
		j.pfile.Close()
	}
	var err error
	if remove {
		err = RemoveDir(j.Name)
	}
	j.lock.Close()
	return err
}

// RemoveDir removes the directory of lab name, whose lock the caller
// holds. The lock file goes last: until then no other run can take the
// lab. A run starting at that moment may make the directory its own
// again, which is why a directory that is not empty at the end is left.
func RemoveDir(name string) error {
	// The persistent records go first: whatever they list is undone.
	if err := os.RemoveAll(PersistDir(name)); err != nil {
		return fmt.Errorf("lab %q: %w", name, err)
	}
	dir := Dir(name)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lab %q: %w", name, err)
	}
	for _, e := range entries {
		if e.Name() != "lock" {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("lab %q: %w", name, err)
			}
		}
	}
	if err := os.Remove(filepath.Join(dir, "lock")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("lab %q: %w", name, err)
	}
	err = unix.Rmdir(dir)
	if err != nil && !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("lab %q: remove %s: %w", name, dir, err)
	}
	return nil
}

// State is a journal read back from disk.
type State struct {
	Name    string
	PID     int
	Script  string
	Boot    string // BootID of the run ("" = recorded before nslua kept it)
	Kept    bool
	Entries []*Entry
}

// Rebooted reports whether the run was in another boot than this one: then
// nothing but its /etc/netns files can be left, whatever it recorded.
func (s *State) Rebooted() bool { return s.Boot != "" && s.Boot != BootID() }

// Live returns the entries not removed, newest first.
func (s *State) Live() []*Entry { return liveReversed(s.Entries) }

// Read parses the journal of lab name: its records under /run/nslua and
// its persistent ones, either of which may be missing (after a reboot, the
// first is). The error is os.ErrNotExist when both are.
func Read(name string) (*State, error) {
	st := &State{Name: name}
	bySeq := map[int]*Entry{}
	var missing error
	found := false
	for _, path := range []string{filepath.Join(Dir(name), "journal"), filepath.Join(PersistDir(name), "journal")} {
		err := st.readFile(path, bySeq)
		if errors.Is(err, os.ErrNotExist) {
			missing = err
			continue
		}
		if err != nil {
			return nil, err
		}
		found = true
	}
	if !found {
		return nil, missing
	}
	sort.SliceStable(st.Entries, func(a, b int) bool { return st.Entries[a].Seq < st.Entries[b].Seq })
	return st, nil
}

func (st *State) readFile(path string, bySeq map[int]*Entry) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var r record
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue // a torn last line from a crash mid-write
		}
		st.apply(r, bySeq)
	}
	return sc.Err()
}

func (st *State) apply(r record, bySeq map[int]*Entry) {
	switch r.Op {
	case opLab:
		st.PID, st.Script, st.Boot = r.PID, r.Script, r.Boot
	case opKeep:
		st.Kept = true
	case opAdd:
		e := r.Entry
		bySeq[e.Seq] = &e
		st.Entries = append(st.Entries, &e)
	case opDone:
		if e := bySeq[r.Seq]; e != nil {
			*e = r.Entry
		}
	case opGone:
		if e := bySeq[r.Seq]; e != nil {
			e.Gone = true
		}
	}
}

// Labs lists the labs that have a directory under BaseDir or StateDir
// (a lab kept before a reboot has only the second), sorted.
func Labs() ([]string, error) {
	seen := map[string]bool{}
	var names []string
	for _, base := range []string{BaseDir, StateDir} {
		entries, err := os.ReadDir(base)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && !seen[e.Name()] {
				seen[e.Name()] = true
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

package lab

import (
	"sort"

	"github.com/nslua/nslua/internal/journal"
)

// Summary is a lab as its journal under /run/nslua shows it.
type Summary struct {
	Name   string
	PID    int    // the process that ran (or runs) it
	Script string // the script it ran, "" for -e and the REPL
	State  string // "running", "kept", or "dead": its run ended without teardown
	Pins   []Pin  // the namespaces it made or pinned and has not removed, by name
}

// Pin is a namespace a lab made or pinned; Inode is 0 until it existed.
type Pin struct {
	Name  string
	Inode uint64
}

// Labs reads every lab's journal, sorted by name. A journal that cannot
// be read (its lab is being removed) is left out.
func Labs() ([]Summary, error) {
	names, err := journal.Labs()
	if err != nil {
		return nil, err
	}
	out := []Summary{}
	for _, name := range names {
		st, err := journal.Read(name)
		if err != nil {
			continue
		}
		s := Summary{Name: name, PID: st.PID, Script: st.Script, State: state(name, st)}
		for _, e := range st.Live() {
			if e.Kind == journal.KindNetns || e.Kind == journal.KindPin {
				s.Pins = append(s.Pins, Pin{e.Name, e.Inode})
			}
		}
		sort.Slice(s.Pins, func(i, j int) bool { return s.Pins[i].Name < s.Pins[j].Name })
		out = append(out, s)
	}
	return out, nil
}

func state(name string, st *journal.State) string {
	if _, held := journal.Holder(name); held {
		return "running"
	}
	if st.Kept {
		return "kept"
	}
	return "dead"
}

// Owners maps the inode of every namespace a lab made or pinned (and has
// not removed) to the lab's name.
func Owners() map[uint64]string {
	out := map[uint64]string{}
	labs, _ := Labs()
	for _, s := range labs {
		for _, p := range s.Pins {
			if p.Inode != 0 {
				out[p.Inode] = s.Name
			}
		}
	}
	return out
}

// Owner names the lab that owns the namespace with inode ino: this running
// lab if it holds it, else whatever journal lists it.
func (l *Lab) Owner(ino uint64) string {
	l.mu.Lock()
	n := l.byInode[ino]
	l.mu.Unlock()
	if n != nil && (n.owned || n.entry != nil) {
		return l.Name
	}
	return Owners()[ino]
}

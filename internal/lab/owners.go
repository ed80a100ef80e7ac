package lab

import (
	"github.com/nslua/nslua/internal/journal"
)

// Owners maps the inode of every namespace a lab made or pinned (and has
// not removed) to the lab's name, from the journals under /run/nslua.
func Owners() map[uint64]string {
	out := map[uint64]string{}
	labs, _ := journal.Labs()
	for _, name := range labs {
		st, err := journal.Read(name)
		if err != nil {
			continue
		}
		for _, e := range st.Live() {
			if (e.Kind == journal.KindNetns || e.Kind == journal.KindPin) && e.Inode != 0 {
				out[e.Inode] = name
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

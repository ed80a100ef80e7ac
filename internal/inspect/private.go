package inspect

import (
	"fmt"
	"io"
	"path/filepath"
	"sync"

	"github.com/nslua/nslua/internal/nsexec"
)

// Private is a namespace's private state: the directories that programs
// nslua runs inside see as /run, /tmp and /var/lib (`ip netns exec` does
// not apply them).
type Private struct {
	Dir     string            `json:"dir"`
	Views   map[string]string `json:"views"`   // "/run" -> its host directory
	Mounted bool              `json:"mounted"` // false until a program first runs there
	Share   []string          `json:"share,omitempty"`
}

func writePrivate(w io.Writer, p *Private) {
	if p == nil {
		return
	}
	note := ""
	if !p.Mounted {
		note = " (empty until a program runs there)"
	}
	for _, v := range []string{"/run", "/tmp", "/var/lib"} {
		if dir, ok := p.Views[v]; ok {
			fmt.Fprintf(w, "  private\t%s -> %s%s\n", v, dir, note)
		}
	}
	for _, s := range p.Share {
		fmt.Fprintf(w, "  private\t%s -> the host's (shared)\n", s)
	}
}

// PrivateOf describes p (nil: nil).
func PrivateOf(p *nsexec.Private) *Private {
	if p == nil {
		return nil
	}
	out := &Private{Dir: p.Dir, Views: map[string]string{}, Mounted: nsexec.Ready(p.Dir), Share: p.Share}
	for _, r := range nsexec.PrivateRoots {
		out.Views[r.Path] = filepath.Join(p.Dir, r.Sub)
	}
	return out
}

// PrivateFrom is an Options.Private over a table built on first use (by
// all, called once: reading every lab's journal per namespace would cost
// the square of their number).
func PrivateFrom(all func() map[uint64]*nsexec.Private) func(string, uint64) *Private {
	var once sync.Once
	var m map[uint64]*nsexec.Private
	return func(_ string, ino uint64) *Private {
		once.Do(func() { m = all() })
		return PrivateOf(m[ino])
	}
}

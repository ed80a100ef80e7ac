package etctree

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/etcfs"
)

// Entry is one file or directory of /etc/netns/NAME (those inside a
// directory entry too) and what becomes of it in the namespace.
type Entry struct {
	Path   string `json:"path"`   // relative to /etc/netns/NAME: "hostapd/hostapd.conf"
	Covers string `json:"covers"` // the /etc path a program inside sees it at
	Kind   string `json:"kind"`   // file, dir, symlink, fifo, socket, device
	Mode   string `json:"mode"`   // "0644"
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
	Size   int64  `json:"size"`
	Links  uint32 `json:"links"`
	Target string `json:"target,omitempty"` // a symlink's target

	HostExists bool `json:"host_exists"` // the host has Covers
	// IPBinds: `ip netns exec` binds it (a top-level entry whose host
	// target exists; an entry inside a directory comes with it).
	IPBinds bool `json:"ip_binds"`
	// NsluaBinds: `nslua exec`, n:exec and n:spawn bind it, host target
	// or not; Refused says why not.
	NsluaBinds bool   `json:"nslua_binds"`
	Refused    string `json:"refused,omitempty"`

	OpenBy []ProcUse `json:"open_by"` // processes of the namespace with it open
	SeenBy []ProcUse `json:"seen_by"` // processes whose /etc path is this very file
	id     etcfs.ID
	key    [2]uint64 // stat(2)'s device and inode, as /proc/PID/fd gives them
}

// ProcUse is a process of the namespace using an entry.
type ProcUse struct {
	PID  int    `json:"pid"`
	Comm string `json:"comm"`
	FD   int    `json:"fd,omitempty"` // for open_by: the descriptor
}

// Listing is what `nslua etc NAME` shows.
type Listing struct {
	Namespace string  `json:"namespace"`
	Dir       string  `json:"dir"`
	Exists    bool    `json:"exists"` // /etc/netns/NAME exists
	Pinned    bool    `json:"pinned"` // a namespace NAME is pinned in /run/netns
	Procs     int     `json:"procs"`  // processes in it
	Entries   []Entry `json:"entries"`
	Note      string  `json:"note,omitempty"`
}

// List reads /etc/netns/name by descriptor. pids are the namespace's
// processes (nil when it is not pinned).
func List(name string, pids []int) (*Listing, error) {
	l := &Listing{Namespace: name, Dir: filepath.Join(etcfs.Root, name), Entries: []Entry{}, Procs: len(pids)}
	dirFd, err := etcfs.OpenDir(name)
	if errors.Is(err, unix.ENOENT) {
		return l, nil
	}
	if errors.Is(err, unix.ELOOP) {
		l.Exists = true
		l.Note = l.Dir + " is a symlink, or one is on the way: refused (nslua exec and n:exec fail in this namespace until it is a directory)"
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", l.Dir, etcfs.Describe(err))
	}
	defer unix.Close(dirFd)
	l.Exists = true
	budget := MaxItems
	if err := listDir(l, dirFd, "", nil, &budget); err != nil {
		return nil, err
	}
	markRefusedTrees(l.Entries)
	scanProcs(l.Entries, pids)
	return l, nil
}

func listDir(l *Listing, dirFd int, rel string, parent *Entry, budget *int) error {
	names, err := etcfs.Names(dirFd)
	if err != nil {
		return fmt.Errorf("read %s: %w", filepath.Join(l.Dir, rel), err)
	}
	sort.Strings(names)
	for _, base := range names {
		if *budget--; *budget < 0 {
			l.Note = fmt.Sprintf("more than %d entries: the rest is not shown", MaxItems)
			return nil
		}
		fd, err := etcfs.At(dirFd, base, unix.O_PATH|unix.O_NOFOLLOW, 0)
		if errors.Is(err, unix.ENOENT) {
			continue // removed meanwhile
		}
		if err != nil {
			return fmt.Errorf("open %s: %w", filepath.Join(l.Dir, rel, base), etcfs.Describe(err))
		}
		e := describe(fd, filepath.Join(rel, base), parent)
		l.Entries = append(l.Entries, e)
		if e.Kind == "dir" {
			if sub, err := etcfs.Reopen(fd, unix.O_RDONLY|unix.O_DIRECTORY); err == nil {
				err = listDir(l, sub, e.Path, &l.Entries[len(l.Entries)-1], budget)
				unix.Close(sub)
				if err != nil {
					unix.Close(fd)
					return err
				}
			}
		}
		unix.Close(fd)
	}
	return nil
}

// describe tells what one entry is and whether each kind of exec binds it.
func describe(fd int, rel string, parent *Entry) Entry {
	e := Entry{Path: rel, Covers: filepath.Join(HostEtc, rel), OpenBy: []ProcUse{}, SeenBy: []ProcUse{}}
	_, hostErr := os.Lstat(e.Covers)
	e.HostExists = hostErr == nil
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err == nil {
		e.Mode, e.UID, e.GID = fmt.Sprintf("%04o", st.Mode&0o7777), int(st.Uid), int(st.Gid)
		e.Size, e.Links = st.Size, uint32(st.Nlink)
		e.key = [2]uint64{uint64(st.Dev), st.Ino}
	}
	info, err := etcfs.Stat(fd)
	if err != nil {
		e.Kind, e.Refused = "unknown", err.Error()
		return e
	}
	e.id = info.ID
	e.Kind = kindName(info.Mode)
	if e.Kind == "symlink" {
		e.Target = readlinkFd(fd)
	}
	if parent != nil {
		e.IPBinds = parent.IPBinds
		e.NsluaBinds = parent.NsluaBinds
		if e.Kind == "file" && info.Nlink > 1 {
			e.Refused = fmt.Sprintf("has %d hard links: it may be another name of a host file", info.Nlink)
		}
		return e
	}
	e.IPBinds = e.HostExists
	switch {
	case e.Kind == "symlink":
		e.Refused = "a symlink: a program inside could write through it wherever it points"
	case e.Kind == "file" && info.Nlink > 1:
		e.Refused = fmt.Sprintf("has %d hard links: it may be another name of a host file", info.Nlink)
	case e.Kind != "file" && e.Kind != "dir":
		e.Refused = "a " + e.Kind + ": nslua binds only regular files and directories"
	}
	e.NsluaBinds = e.Refused == ""
	return e
}

// markRefusedTrees refuses a directory entry that holds a refused file:
// nslua exec refuses the whole directory.
func markRefusedTrees(entries []Entry) {
	for i := range entries {
		top := &entries[i]
		if top.Kind != "dir" || filepath.Dir(top.Path) != "." {
			continue
		}
		for j := range entries {
			in := &entries[j]
			if in.Refused != "" && len(in.Path) > len(top.Path) && in.Path[:len(top.Path)+1] == top.Path+"/" {
				top.Refused = "holds " + in.Path + ", which " + in.Refused
				break
			}
		}
		if top.Refused != "" {
			for j := range entries {
				if len(entries[j].Path) > len(top.Path) && entries[j].Path[:len(top.Path)+1] == top.Path+"/" {
					entries[j].NsluaBinds = false
				}
			}
			top.NsluaBinds = false
		}
	}
}

func kindName(mode uint32) string {
	switch mode {
	case unix.S_IFREG:
		return "file"
	case unix.S_IFDIR:
		return "dir"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "device"
	}
	return "unknown"
}

func readlinkFd(fd int) string {
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "?"
	}
	return string(buf[:n])
}

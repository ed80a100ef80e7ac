// Package etctree copies the host's /etc files into /etc/netns/NAME, lists
// what a namespace's /etc/netns directory holds and who uses it, and
// removes entries: `nslua etc` and n:etc_copy. Every access to /etc/netns
// goes through internal/etcfs (by descriptor, no symlink followed); the
// host's /etc is only read, never written, except for the empty target
// that CreateHostTarget makes when asked to.
package etctree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// HostEtc is the host's /etc, the source of every copy.
const HostEtc = "/etc"

// MaxFile bounds what is copied of one file; MaxItems the files of one
// tree: /etc entries are configuration, not data.
const (
	MaxFile  = 16 << 20
	MaxItems = 10000
)

// Item is one file or directory to make under /etc/netns/NAME.
type Item struct {
	Rel      string // relative to /etc: "hostapd/hostapd.conf"
	Dir      bool
	Perm     uint32 // permission bits (07777)
	UID, GID int
	Data     []byte
	Via      string // the host's symlink that was followed to it (--follow)
}

// Plan is what copying the host's /etc/PATH means: its items, parents
// before children. Nothing is written while a plan is made, so a refusal
// anywhere leaves everything as it was.
type Plan struct {
	Path  string
	Items []Item
}

// CleanPath accepts PATH relative to /etc ("dnsmasq.conf", "hostapd/"),
// or as /etc/PATH, and returns it relative, without a trailing slash.
func CleanPath(path string) (string, error) {
	p := strings.TrimPrefix(path, HostEtc+"/")
	p = strings.TrimRight(p, "/")
	switch {
	case path == "":
		return "", errors.New("path is empty")
	case p == "":
		return "", fmt.Errorf("path %q names no file under /etc", path)
	case strings.HasPrefix(p, "/"):
		return "", fmt.Errorf("path %q is outside /etc; give it relative to /etc (e.g. \"dnsmasq.conf\")", path)
	case strings.ContainsRune(p, 0):
		return "", errors.New("path contains a NUL byte")
	case p == "netns" || strings.HasPrefix(p, "netns/"):
		return "", fmt.Errorf("path %q is inside /etc/netns itself", path)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return "", fmt.Errorf("path %q has an empty, . or .. component", path)
		}
	}
	return p, nil
}

// ErrHostMissing is returned by PlanCopy when the host has no /etc/PATH.
var ErrHostMissing = errors.New("the host has no such file")

// Refused lists every reason a copy cannot be made, one per line.
type Refused struct{ Lines []string }

func (r *Refused) Error() string { return strings.Join(r.Lines, "\n") }

// PlanCopy reads the host's /etc/path (a file, or a directory and all it
// holds). A symlink is refused unless follow, which copies what it points
// to under the link's name; FIFOs, devices and sockets are refused.
func PlanCopy(path string, follow bool) (*Plan, error) {
	rel, err := CleanPath(path)
	if err != nil {
		return nil, err
	}
	full := filepath.Join(HostEtc, rel)
	if _, err := os.Lstat(full); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", full, ErrHostMissing)
	}
	p := &Plan{Path: rel}
	var refused Refused
	walkHost(p, &refused, rel, follow, 0)
	if len(refused.Lines) > 0 {
		return nil, &refused
	}
	return p, nil
}

func walkHost(p *Plan, r *Refused, rel string, follow bool, depth int) {
	full := filepath.Join(HostEtc, rel)
	if len(p.Items) >= MaxItems || depth > 32 {
		r.Lines = append(r.Lines, fmt.Sprintf("%s: more than %d files or 32 levels (refused)", full, MaxItems))
		return
	}
	info, err := os.Lstat(full)
	if err != nil {
		r.Lines = append(r.Lines, err.Error())
		return
	}
	via := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(full)
		if !follow {
			r.Lines = append(r.Lines, fmt.Sprintf("%s is a symlink to %s: refused (nslua binds no symlinks; --follow copies what it points to)", full, target))
			return
		}
		if info, err = os.Stat(full); err != nil {
			r.Lines = append(r.Lines, fmt.Sprintf("%s is a symlink to %s, which cannot be followed: %v", full, target, err))
			return
		}
		via = full + " -> " + target
	}
	it := Item{Rel: rel, Perm: uint32(info.Mode().Perm()) | setBits(info.Mode()), UID: -1, GID: -1, Via: via}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		it.UID, it.GID = int(st.Uid), int(st.Gid)
	}
	switch {
	case info.IsDir():
		it.Dir = true
		p.Items = append(p.Items, it)
		walkDir(p, r, rel, follow, depth)
	case info.Mode().IsRegular():
		if info.Size() > MaxFile {
			r.Lines = append(r.Lines, fmt.Sprintf("%s is larger than %d bytes (refused)", full, MaxFile))
			return
		}
		if it.Data, err = os.ReadFile(full); err != nil {
			r.Lines = append(r.Lines, err.Error())
			return
		}
		p.Items = append(p.Items, it)
	default:
		r.Lines = append(r.Lines, fmt.Sprintf("%s is %s: refused (nslua copies only regular files and directories)", full, kindOf(info.Mode())))
	}
}

func walkDir(p *Plan, r *Refused, rel string, follow bool, depth int) {
	entries, err := os.ReadDir(filepath.Join(HostEtc, rel))
	if err != nil {
		r.Lines = append(r.Lines, err.Error())
		return
	}
	for _, e := range entries {
		walkHost(p, r, filepath.Join(rel, e.Name()), follow, depth+1)
	}
}

func setBits(m fs.FileMode) uint32 {
	var bits uint32
	if m&fs.ModeSetuid != 0 {
		bits |= syscall.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		bits |= syscall.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		bits |= syscall.S_ISVTX
	}
	return bits
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}

// CreateHostTarget makes an empty /etc/path on the host (a directory when
// dir), mode 0644 (0755), so that `ip netns exec` has something to bind
// /etc/netns/NAME/path over: it binds only over targets that exist. It
// makes nothing else: a missing parent directory is an error.
func CreateHostTarget(path string, dir bool) (string, error) {
	rel, err := CleanPath(path)
	if err != nil {
		return "", err
	}
	full := filepath.Join(HostEtc, rel)
	if dir {
		err = os.Mkdir(full, 0o755)
	} else {
		var f *os.File
		if f, err = os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err == nil {
			err = f.Close()
		}
	}
	if err != nil {
		return "", fmt.Errorf("create the host's %s: %w", full, err)
	}
	return full, nil
}

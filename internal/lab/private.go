package lab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/etcfs"
	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsexec"
)

// Private state: programs in a namespace the lab made see their own /run
// (and /var/run), /tmp and /var/lib (nsexec.Private), so that daemons
// that think they own the machine (dnsmasq's leases, dhclient's leases and
// PID file, hostapd's control sockets) keep one set per namespace and
// never touch the host's. Its directory, under the lab's state, is made
// empty with the namespace (the mark `nslua exec` looks for) and mounted
// when a program first runs there (or when the lab is kept): a topology
// where nothing runs pays a mkdir, not two mounts. Namespaces the lab only
// opened or pinned keep the host's view.

// PrivateDirName is the directory, in a lab's state, of its namespaces'
// private state.
const PrivateDirName = "ns"

// PrivateTrashName is the directory, in a lab's state, where private
// directories are moved to be removed (see nsexec.Remove).
const PrivateTrashName = "gone"

func (l *Lab) privateFor(name string, opts AddOptions) (*nsexec.Private, error) {
	if opts.NoPrivate {
		if len(opts.Share) > 0 {
			return nil, errors.New("share: the namespace has no private state (private = false) to share from")
		}
		return nil, nil
	}
	for _, s := range opts.Share {
		if err := nsexec.CheckShare(s); err != nil {
			return nil, err
		}
		if _, err := os.Stat(s); err != nil {
			return nil, fmt.Errorf("share %q: %w", s, errors.Unwrap(err))
		}
	}
	dir := filepath.Join(journal.Dir(l.j.Name), PrivateDirName, name)
	return &nsexec.Private{Dir: dir, Share: opts.Share}, nil
}

// markPrivate makes the (empty) private directory and hands the private
// state to the worker.
func (n *Netns) markPrivate() error {
	if n.priv == nil {
		return nil
	}
	if err := os.MkdirAll(n.priv.Dir, 0o700); err != nil {
		return fmt.Errorf("private state of %s: %w", n.Name, err)
	}
	n.worker.SetPrivate(n.priv)
	return nil
}

// ensurePrivate mounts the private state before the first program runs.
func (n *Netns) ensurePrivate() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.priv == nil || n.privReady {
		return nil
	}
	if err := nsexec.Prepare(n.priv, n.Inode); err != nil {
		return fmt.Errorf("%s: %w", n.Name, err)
	}
	n.privReady = true
	return nil
}

// Private returns the namespace's private state (nil: programs see the
// host's /run, /tmp and /var/lib).
func (n *Netns) Private() *nsexec.Private { return n.priv }

// File returns the content of what programs in the namespace see at path,
// read from the namespace's private state where path is in it (and the
// host's file elsewhere); found is false when there is no such file. A
// symlink in the private state is not followed: it could point anywhere.
func (n *Netns) File(path string) (content string, found bool, err error) {
	if !filepath.IsAbs(path) {
		return "", false, fmt.Errorf("%q is not an absolute path", path)
	}
	if strings.ContainsRune(path, 0) {
		return "", false, errors.New("path contains a NUL byte")
	}
	path = filepath.Clean(path)
	base, rel, private := n.priv.HostPath(path)
	if !private {
		data, err := os.ReadFile(path)
		return fileResult(data, err)
	}
	n.mu.Lock()
	ready := n.privReady
	n.mu.Unlock()
	if !ready && strings.HasSuffix(base, "/lib") {
		// Nothing ran yet: the view is still the host's /var/lib.
		data, err := os.ReadFile(path)
		return fileResult(data, err)
	}
	if !ready {
		return "", false, nil // an empty /run or /tmp
	}
	return readBeneath(base, rel)
}

func readBeneath(base, rel string) (string, bool, error) {
	dfd, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fileResult(nil, err)
	}
	defer unix.Close(dfd)
	if rel == "" {
		rel = "."
	}
	fd, err := etcfs.At(dfd, rel, unix.O_RDONLY, 0)
	if err != nil {
		return fileResult(nil, err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(base, rel))
	defer f.Close()
	data, err := readAll(f)
	return fileResult(data, err)
}

func readAll(f *os.File) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, fmt.Errorf("%s is a directory", f.Name())
	}
	return io.ReadAll(f)
}

func fileResult(data []byte, err error) (string, bool, error) {
	switch {
	case errors.Is(err, os.ErrNotExist), errors.Is(err, unix.ENOENT):
		return "", false, nil
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EXDEV):
		return "", false, errors.New("a symlink in the namespace's private state: not followed")
	case err != nil:
		return "", false, err
	}
	return string(data), true, nil
}

// removePrivate unmounts and removes a namespace's private state; only a
// directory in the lab's state is ever removed.
func (u *undoer) removePrivate(e *journal.Entry) error {
	dir := filepath.Clean(e.Private)
	if !strings.HasPrefix(dir, filepath.Clean(journal.BaseDir)+"/") || !strings.Contains(dir, "/"+PrivateDirName+"/") {
		u.did("left %s: not a private state directory of a lab", dir)
		return nil
	}
	// The trash is the lab's own (removed with its directory), beside ns/,
	// so no namespace's name can clash with it; one per worker of
	// undoPins, as removing a directory holds its parent's lock while it
	// waits for the disk.
	trash := filepath.Join(filepath.Dir(filepath.Dir(dir)), PrivateTrashName, strconv.Itoa(u.slot))
	if err := nsexec.Remove(dir, trash); err != nil {
		return err
	}
	return nil
}

// FindPrivate finds the private state of the namespace pinned as name
// with this inode: the lab whose journal lists that namespace (by inode)
// with a private directory. nil: it has none (not a lab's, or private =
// false). It only reads, and only the journals of labs that have a
// private directory of that name.
func FindPrivate(name string, inode uint64) *nsexec.Private {
	labs, _ := os.ReadDir(journal.BaseDir)
	for _, d := range labs {
		dir := filepath.Join(journal.BaseDir, d.Name(), PrivateDirName, name)
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		if p := privates(d.Name())[inode]; p != nil && p.Dir == dir {
			return p
		}
	}
	return nil
}

// Privates maps the inode of every namespace with private state to it,
// for inspecting many at once.
func Privates() map[uint64]*nsexec.Private {
	out := map[uint64]*nsexec.Private{}
	labs, _ := os.ReadDir(journal.BaseDir)
	for _, d := range labs {
		if _, err := os.Stat(filepath.Join(journal.BaseDir, d.Name(), PrivateDirName)); err == nil {
			for ino, p := range privates(d.Name()) {
				out[ino] = p
			}
		}
	}
	return out
}

func privates(labName string) map[uint64]*nsexec.Private {
	out := map[uint64]*nsexec.Private{}
	st, err := journal.Read(labName)
	if err != nil {
		return out
	}
	for _, e := range st.Live() {
		if e.Kind == journal.KindNetns && e.Done && e.Private != "" {
			out[e.Inode] = &nsexec.Private{Dir: e.Private, Share: e.Share}
		}
	}
	return out
}

// PrivateOf is FindPrivate for `nslua exec`, which then runs a program
// there: it mounts the state if no program has run there yet.
func PrivateOf(name string, inode uint64) (*nsexec.Private, error) {
	p := FindPrivate(name, inode)
	if p != nil && !nsexec.Ready(p.Dir) {
		if err := nsexec.Prepare(p, inode); err != nil {
			return nil, err
		}
	}
	return p, nil
}

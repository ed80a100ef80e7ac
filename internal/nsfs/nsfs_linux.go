// Package nsfs creates, pins, opens and removes network namespaces the way
// iproute2's `ip netns` does, so that namespaces made here and there are
// interchangeable. It also runs code inside a namespace without ever letting
// a namespace-switched OS thread go back to the Go scheduler.
package nsfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// RunDir is where `ip netns` pins namespaces. Tests that never mount
// may point it at a directory of their own before the first pin.
var RunDir = "/run/netns"

// The kinds of failure callers tell apart with errors.Is.
var (
	ErrExists   = errors.New("already exists")          // the name is taken
	ErrNotFound = errors.New("not found")               // nothing pinned under the name
	ErrNotNetns = errors.New("not a network namespace") // a path that holds something else
)

// existsErr says that path is taken: "/run/netns/a already exists".
func existsErr(path string) error { return fmt.Errorf("%s %w", path, ErrExists) }

// kindError is a message of its own that errors.Is matches with kind.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// ValidateName applies the rules of `ip netns add`, so that every name nslua
// accepts is one iproute2 can use too.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("name is empty")
	case len(name) >= 256:
		return fmt.Errorf("name is %d bytes, the limit is 255", len(name))
	case strings.ContainsRune(name, '/'):
		return errors.New("name contains '/'")
	case name == "." || name == "..":
		return fmt.Errorf("name %q is reserved", name)
	case strings.ContainsRune(name, 0):
		return errors.New("name contains a NUL byte")
	}
	return nil
}

// PinPath is the pin file of a namespace name.
func PinPath(name string) string { return filepath.Join(RunDir, name) }

// List returns the names pinned in RunDir, sorted. A missing RunDir is an
// empty list, not an error: nothing has been pinned yet.
func List() ([]string, error) {
	entries, err := os.ReadDir(RunDir)
	if errors.Is(err, os.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", RunDir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// CheckNetns verifies that path is an nsfs file of a network namespace and
// returns its inode, the namespace's identity.
func CheckNetns(path string) (uint64, error) {
	if !IsPinned(path) {
		var sfs unix.Statfs_t
		if err := unix.Statfs(path, &sfs); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		return 0, notNsfs(path)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	return CheckNetnsFd(fd, path)
}

func notNsfs(path string) error {
	return &kindError{path + " is not a namespace file (no nsfs mount there)", ErrNotNetns}
}

// CheckNetnsFd is CheckNetns on an open fd (path names it in errors): the
// check and the use see the same file even if the path is replaced.
func CheckNetnsFd(fd int, path string) (uint64, error) {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	if sfs.Type != unix.NSFS_MAGIC {
		return 0, notNsfs(path)
	}
	kind, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		return 0, fmt.Errorf("%s: namespace type: %w", path, err)
	}
	if kind != unix.CLONE_NEWNET {
		return 0, fmt.Errorf("%s is a %s namespace, %w", path, nsKind(kind), ErrNotNetns)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	return st.Ino, nil
}

// IsPinned reports whether path is on nsfs (NSFS_MAGIC): a live pin, or
// /proc/PID/ns/net, as opposed to a plain file such as the empty one an
// interrupted add leaves.
func IsPinned(path string) bool {
	var sfs unix.Statfs_t
	return unix.Statfs(path, &sfs) == nil && sfs.Type == unix.NSFS_MAGIC
}

func nsKind(flag int) string {
	switch flag {
	case unix.CLONE_NEWNS:
		return "mount"
	case unix.CLONE_NEWUTS:
		return "uts"
	case unix.CLONE_NEWIPC:
		return "ipc"
	case unix.CLONE_NEWPID:
		return "pid"
	case unix.CLONE_NEWUSER:
		return "user"
	case unix.CLONE_NEWCGROUP:
		return "cgroup"
	case unix.CLONE_NEWTIME:
		return "time"
	}
	return fmt.Sprintf("type-%#x", flag)
}

// Inode returns the inode of the namespace pinned at path (as `stat -L -c %i`).
func Inode(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// The main goroutine keeps the main thread for itself: a goroutine that
// ends while locked to the main thread cannot kill it (Go parks it instead),
// so a Do landing there would leave the process's thread-group leader —
// what /proc/PID/ns/net shows — inside another namespace for good.
func init() { runtime.LockOSThread() }

// HandleAt opens a netlink socket inside the namespace open at nsFd.
// netlink.NewHandleAt switches the caller's thread back and forth and
// ignores a failed switch back; Do never hands such a thread back.
func HandleAt(nsFd int) (*netlink.Handle, error) {
	var h *netlink.Handle
	err := Do(nsFd, func() (err error) {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	return h, err
}

// Do runs fn on a fresh OS thread that has joined the network namespace open
// at nsFd. The thread is never handed back to the scheduler: the goroutine
// ends while still locked, so the runtime destroys the thread and no other
// goroutine can ever run in the wrong namespace.
func Do(nsFd int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(nsFd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// DoPath is Do for a pin path.
func DoPath(path string, fn func() error) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return Do(fd, fn)
}

package nsexec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/etcfs"
)

// EtcRoot is where per-namespace /etc files live, as for `ip netns exec`.
const EtcRoot = etcfs.Root

// etcEntry is one entry of /etc/netns/NAME and what it will cover.
type etcEntry struct {
	name       string
	dir        bool
	id         etcfs.ID
	hostExists bool
}

// readEtc lists /etc/netns/NAME, by descriptor (internal/etcfs). Refused:
// a symlink (the directory itself or an entry: bound, it would let a
// program inside write wherever it points, the host's /etc/resolv.conf
// say, which is the damage nslua exists to prevent), a file with more than
// one link (it may be another name of a host file), a FIFO, device or
// socket. bindEtc checks again what it binds.
func readEtc(name string) ([]etcEntry, error) {
	if name == "" {
		return nil, nil
	}
	dirFd, err := openEtcDir(name)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer unix.Close(dirFd)
	names, err := etcfs.Names(dirFd)
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", EtcRoot, name, err)
	}
	var entries []etcEntry
	for _, base := range names {
		e, fd, err := openEntry(dirFd, name, base)
		if errors.Is(err, unix.ENOENT) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		unix.Close(fd)
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	return entries, nil
}

func openEtcDir(name string) (int, error) {
	dirFd, err := etcfs.OpenDir(name)
	if errors.Is(err, unix.ELOOP) {
		return -1, fmt.Errorf("%s/%s is a symlink: nslua binds only files and directories over /etc: %w", EtcRoot, name, err)
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return -1, fmt.Errorf("open %s/%s: %w", EtcRoot, name, etcfs.Describe(err))
	}
	return dirFd, err
}

// openEntry opens and checks one entry of /etc/netns/name; it returns an
// O_PATH descriptor of what it checked.
func openEntry(dirFd int, name, base string) (etcEntry, int, error) {
	shown := filepath.Join(EtcRoot, name, base)
	fd, err := etcfs.At(dirFd, base, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return etcEntry{}, -1, err
	}
	info, err := etcfs.Stat(fd)
	switch {
	case err != nil:
	case info.Mode == unix.S_IFLNK:
		err = fmt.Errorf("%s is a symlink: nslua binds only files and directories over /etc", shown)
	case info.Dir():
		err = checkDirEntry(fd, shown)
	default:
		if cerr := etcfs.CheckFile(info); cerr != nil {
			err = fmt.Errorf("%s %w", shown, cerr)
		}
	}
	if err != nil {
		unix.Close(fd)
		return etcEntry{}, -1, err
	}
	_, hostErr := os.Stat(filepath.Join("/etc", base))
	return etcEntry{name: base, dir: info.Dir(), id: info.ID, hostExists: hostErr == nil}, fd, nil
}

func checkDirEntry(fd int, shown string) error {
	dfd, err := etcfs.Reopen(fd, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("open %s: %w", shown, err)
	}
	defer unix.Close(dfd)
	return etcfs.CheckTree(dfd, shown)
}

// signature identifies a set of entries: when it changes, the mount
// namespace prepared for it no longer fits and must be made again.
func signature(entries []etcEntry) string {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%s:%d:%d:%t:%t;", e.name, e.id.Dev, e.id.Ino, e.dir, e.hostExists)
	}
	return b.String()
}

// enterMountNs gives the calling (locked) thread its own mount namespace set
// up like `ip netns exec` does: / a recursive slave (host mounts propagate
// in, nothing propagates out), /sys showing this network namespace, and the
// /etc/netns/NAME entries over /etc.
func enterMountNs(etcName string, entries []etcEntry) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare mount namespace: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make / a slave mount: %w", err)
	}
	if err := remountSys(); err != nil {
		return err
	}
	return bindEtc(etcName, entries)
}

func remountSys() error {
	var flags uintptr
	var st unix.Statfs_t
	if unix.Statfs("/sys", &st) == nil && st.Flags&unix.ST_RDONLY != 0 {
		flags = unix.MS_RDONLY
	}
	if err := unix.Unmount("/sys", unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("unmount /sys: %w", err)
	}
	if err := unix.Mount("sysfs", "/sys", "sysfs", flags, ""); err != nil {
		return fmt.Errorf("mount sysfs on /sys: %w", err)
	}
	return nil
}

// cmd/nslua/fastexec.c does the same for `nslua exec` before the Go runtime
// starts; a change here belongs there too (tests/exec_test.go runs both).

// bindEtc covers /etc with an overlay whose upper layer is a private
// tmpfs, then binds each entry over /etc/ENTRY. So: an entry whose target
// the host lacks still appears (made in the overlay, not in the host's
// /etc); whatever a program inside writes to /etc outside the entries
// (dhclient-script's temporary files, say) never reaches the host; and a
// namespace without its own resolv.conf sees a private copy of the host's.
func bindEtc(etcName string, entries []etcEntry) error {
	// Hold the sources open before the overlay hides the real files: a bind
	// through the overlay would send writes into its throw-away upper layer.
	// What is bound is what was opened and checked here, in this mount
	// namespace (a bind from a descriptor of another one is refused).
	fds := make([]int, 0, len(entries)+1)
	defer func() { closeAll(fds) }()
	if len(entries) > 0 {
		dirFd, err := openEtcDir(etcName)
		if err != nil {
			return err
		}
		defer unix.Close(dirFd)
		for _, e := range entries {
			now, fd, err := openEntry(dirFd, etcName, e.name)
			if err == nil && (now.id != e.id || now.dir != e.dir) {
				unix.Close(fd)
				err = fmt.Errorf("%s/%s/%s was replaced while being bound; try again", EtcRoot, etcName, e.name)
			}
			if err != nil {
				return err
			}
			fds = append(fds, fd)
		}
	}
	return withScratch(func(scratch string) error {
		if needsResolvCopy(entries) {
			fd, err := privateCopy(scratch, "/etc/resolv.conf")
			if err != nil {
				return err
			}
			fds = append(fds, fd)
			entries = append(entries, etcEntry{name: "resolv.conf", hostExists: true})
		}
		if err := overlayEtc(scratch, entries); err != nil {
			return err
		}
		return bindAll(entries, fds)
	})
}

func bindAll(entries []etcEntry, fds []int) error {
	for i, e := range entries {
		src := fmt.Sprintf("/proc/thread-self/fd/%d", fds[i])
		dst := filepath.Join("/etc", e.name)
		if err := unix.Mount(src, dst, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s over %s: %w", e.name, dst, err)
		}
	}
	return nil
}

func needsResolvCopy(entries []etcEntry) bool {
	for _, e := range entries {
		if e.name == "resolv.conf" {
			return false
		}
	}
	_, err := os.Stat("/etc/resolv.conf")
	return err == nil
}

// withScratch lends fn a private tmpfs, mounted over /tmp in this mount
// namespace only and detached again afterwards: what fn bound or overlaid
// from it keeps it alive, and /tmp shows the host's again.
func withScratch(fn func(dir string) error) error {
	const dir = "/tmp"
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("mount scratch tmpfs: %w", err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	return fn(dir)
}

// privateCopy copies a host file into the scratch area and returns an
// O_PATH descriptor of the copy.
func privateCopy(scratch, path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return -1, err
	}
	cp := filepath.Join(scratch, filepath.Base(path))
	if err := os.WriteFile(cp, data, 0o644); err != nil {
		return -1, err
	}
	return unix.Open(cp, unix.O_PATH|unix.O_CLOEXEC, 0)
}

func overlayEtc(scratch string, entries []etcEntry) error {
	upper, work := scratch+"/upper", scratch+"/work"
	for _, d := range []string{upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	opts := "lowerdir=/etc,upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", "/etc", "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay on /etc: %w", err)
	}
	for _, e := range entries {
		if !e.hostExists {
			if err := placeholder(filepath.Join("/etc", e.name), e.dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// placeholder makes a mount point in the overlay, replacing a dangling
// symlink there if need be.
func placeholder(path string, dir bool) error {
	os.Remove(path)
	if dir {
		return os.Mkdir(path, 0o755)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("make mount point %s: %w", path, err)
	}
	return f.Close()
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

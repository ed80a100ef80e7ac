package nsexec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Private is a namespace's private state: what programs inside see at
// /run (and /var/run), /tmp and /var/lib. Dir holds it, made by Prepare:
//
//	Dir/         a tmpfs of its own (a full /tmp inside fills this, not the host's /run)
//	Dir/run      seen as /run: empty at first, the host's /run/netns and /run/nslua bound back in
//	Dir/tmp      seen as /tmp: empty at first
//	Dir/lib      seen as /var/lib: an overlay, the host's /var/lib under Dir/upper
//
// Each directory is shared by every program of the namespace, across
// execs and `nslua exec`, and goes at teardown (Remove).
type Private struct {
	Dir   string
	Share []string // host paths under /run, /var/lib or /tmp that programs see as the host's
}

// PrivateRoots are the directories a namespace gets its own of, and where
// each lives under Private.Dir.
var PrivateRoots = []struct{ Path, Sub string }{{"/run", "run"}, {"/tmp", "tmp"}, {"/var/lib", "lib"}}

// runShared are bound back into the private /run: `ip netns` inside must
// still work, and lab scripts keep their logs and leases in /run/nslua/LAB.
var runShared = []string{"/run/netns", "/run/nslua"}

const tmpfsMagic = 0x01021994

// Ready reports whether Prepare has set dir up.
func Ready(dir string) bool {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil || st.Type != tmpfsMagic {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, "ready"))
	return err == nil
}

// Prepare makes dir's mounts in the calling process's (the host's) mount
// namespace, once: every exec environment of the namespace binds the same
// ones (one overlay per upper directory: two overlays sharing one would be
// undefined behaviour). The caller has journaled dir; it is serialised with
// other processes (`nslua exec`) by a lock on dir's parent.
func Prepare(p *Private, nsIno uint64) error {
	dir := p.Dir
	unlock, err := lockParent(dir)
	if err != nil {
		return err
	}
	defer unlock()
	if Ready(dir) {
		return nil
	}
	// Made with the namespace: gone means torn down (by `nslua down`, say).
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("private state %s: %w (is the lab being torn down?)", dir, errors.Unwrap(err))
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("private state: mount tmpfs on %s: %w", dir, err)
	}
	if err := layout(dir, p.Share, nsIno); err != nil {
		unix.Unmount(dir, unix.MNT_DETACH)
		return fmt.Errorf("private state %s: %w", dir, err)
	}
	return nil
}

// lockParent serialises Prepare and Remove of the directories in dir's
// parent, across processes.
func lockParent(dir string) (func(), error) {
	lock, err := os.Open(filepath.Dir(dir))
	if err != nil {
		return nil, fmt.Errorf("private state %s: %w", dir, err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	return func() { lock.Close() }, nil
}

func layout(dir string, share []string, nsIno uint64) error {
	dirs := []struct {
		path string
		mode os.FileMode
	}{{"run", 0o755}, {"run/lock", os.ModeSticky | 0o777}, {"tmp", os.ModeSticky | 0o777}, {"lib", 0o755}, {"upper", 0o755}, {"work", 0o755}}
	for _, d := range dirs {
		p := filepath.Join(dir, d.path)
		if err := os.Mkdir(p, d.mode); err != nil {
			return err
		}
		if err := os.Chmod(p, d.mode); err != nil { // past the umask
			return err
		}
	}
	for _, s := range runShared {
		if err := os.Mkdir(filepath.Join(dir, s), 0o755); err != nil {
			return err
		}
	}
	opts := "lowerdir=/var/lib,upperdir=" + dir + "/upper,workdir=" + dir + "/work"
	if err := unix.Mount("overlay", dir+"/lib", "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay of /var/lib: %w", err)
	}
	// For cmd/nslua/fastexec.c, which reads no journal: the shares, one a
	// line, and last (Ready means complete) the namespace's inode.
	if err := os.WriteFile(filepath.Join(dir, "share"), []byte(strings.Join(append(share, ""), "\n")), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "ready"), []byte(strconv.FormatUint(nsIno, 10)+"\n"), 0o644)
}

// Remove unmounts and removes dir. The overlay's lower layer, the host's
// /var/lib, is never written: only what is under dir goes. Under the lock
// dir is unmounted and moved into trash (a directory on the same file
// system, made with its parents if missing; "" for none), and removed from there after
// the lock is released: removing a directory can wait for the disk (an
// ext4 mounted with discard trims the freed block synchronously, about a
// millisecond), and the lock is shared by every namespace of the lab.
// What a crash leaves in trash is for its owner to remove.
func Remove(dir, trash string) error {
	unlock, err := lockParent(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for i := 0; i < 4 && mounted(dir); i++ {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			unlock()
			return fmt.Errorf("unmount %s: %w", dir, err)
		}
	}
	if mounted(dir) {
		unlock()
		return fmt.Errorf("remove %s: still mounted", dir)
	}
	gone := dir
	if moved, ok := moveToTrash(dir, trash); ok {
		unlock()
		gone = moved
	} else {
		defer unlock()
	}
	if err := os.RemoveAll(gone); err != nil {
		return fmt.Errorf("remove %s: %w", gone, err)
	}
	return nil
}

// moveToTrash renames dir into trash, under its own name; false (and dir
// left where it is) when there is no trash or the rename fails.
func moveToTrash(dir, trash string) (string, bool) {
	if trash == "" {
		return "", false
	}
	if err := os.MkdirAll(trash, 0o700); err != nil {
		return "", false
	}
	moved := filepath.Join(trash, filepath.Base(dir))
	if err := os.Rename(dir, moved); err != nil {
		return "", false
	}
	return moved, true
}

// mounted: dir is a mount point (its device differs from its parent's).
func mounted(dir string) bool {
	var a, b unix.Stat_t
	if unix.Lstat(dir, &a) != nil || unix.Lstat(filepath.Dir(dir), &b) != nil {
		return false
	}
	return a.Dev != b.Dev
}

// HostPath returns where the host sees what programs of the namespace see
// at path (absolute and clean), and whether it is in the private state
// (then rel is the path below that root, base the root's host directory).
func (p *Private) HostPath(path string) (base, rel string, private bool) {
	if p == nil {
		return "/", strings.TrimPrefix(path, "/"), false
	}
	if strings.HasPrefix(path, "/var/run/") || path == "/var/run" {
		path = "/run" + strings.TrimPrefix(path, "/var/run")
	}
	for _, s := range append(append([]string{}, runShared...), p.Share...) {
		if under(path, s) {
			return "/", strings.TrimPrefix(path, "/"), false
		}
	}
	for _, r := range PrivateRoots {
		if under(path, r.Path) {
			return filepath.Join(p.Dir, r.Sub), strings.TrimPrefix(strings.TrimPrefix(path, r.Path), "/"), true
		}
	}
	return "/", strings.TrimPrefix(path, "/"), false
}

func under(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// CheckShare validates a path given to share: absolute, clean, under one
// of the private roots (elsewhere programs see the host's anyway).
func CheckShare(path string) error {
	if strings.ContainsAny(path, "\n\x00") {
		return fmt.Errorf("share %q: contains a newline or a NUL byte", path)
	}
	if !filepath.IsAbs(path) || filepath.Clean(path) != path {
		return fmt.Errorf("share %q: not an absolute, clean path", path)
	}
	if under(path, "/var/run") {
		return fmt.Errorf("share %q: /var/run is a link to /run: give the /run path", path)
	}
	for _, r := range PrivateRoots {
		if path == r.Path {
			return fmt.Errorf("share %q: to share all of %s, use private = false", path, r.Path)
		}
		if under(path, r.Path) {
			return nil
		}
	}
	return fmt.Errorf("share %q: not under /run, /var/lib or /tmp: programs see the host's there anyway", path)
}

// bindPrivate puts p's directories over /run, /tmp and /var/lib in the
// calling thread's mount namespace (made by enterMountNs), then binds the
// host's shared paths back. What is bound back is opened first, while the
// host's directories are still visible.
func bindPrivate(p *Private) error {
	if p == nil {
		return nil
	}
	if !Ready(p.Dir) {
		return fmt.Errorf("private state %s is not set up", p.Dir)
	}
	shared := append(append([]string{}, runShared...), p.Share...)
	fds := make([]int, 0, len(shared))
	defer func() { closeAll(fds) }()
	for _, s := range runShared {
		// A run through the Go API, not the CLI, may not have made them yet.
		if err := os.MkdirAll(s, 0o755); err != nil {
			return fmt.Errorf("share %s: %w", s, err)
		}
	}
	for _, s := range shared {
		fd, err := unix.Open(s, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("share %s: %w", s, err)
		}
		fds = append(fds, fd)
	}
	// The private directories live under /run: opened before /run is covered.
	targets := []string{"/run", "/tmp", "/var/lib"}
	if info, err := os.Lstat("/var/run"); err == nil && info.IsDir() {
		targets = append(targets, "/var/run") // not the usual link to /run
	}
	srcs := make([]int, len(targets))
	for i, t := range targets {
		sub := map[string]string{"/run": "run", "/var/run": "run", "/tmp": "tmp", "/var/lib": "lib"}[t]
		fd, err := unix.Open(filepath.Join(p.Dir, sub), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("private %s: %w", t, err)
		}
		fds = append(fds, fd)
		srcs[i] = fd
	}
	for i, t := range targets {
		src := fmt.Sprintf("/proc/thread-self/fd/%d", srcs[i])
		if err := unix.Mount(src, t, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind private %s: %w", t, err)
		}
	}
	for i, s := range shared {
		if err := mountPoint(s, fds[i]); err != nil {
			return err
		}
		src := fmt.Sprintf("/proc/thread-self/fd/%d", fds[i])
		flags := uintptr(unix.MS_BIND | unix.MS_REC) // with the pins under /run/netns
		if s == "/run/nslua" {
			flags = unix.MS_BIND // not every lab's private mounts again
		}
		if err := unix.Mount(src, s, "none", flags, ""); err != nil {
			return fmt.Errorf("share %s: bind: %w", s, err)
		}
	}
	return nil
}

// mountPoint makes path (in a private view) a directory or file like what
// fd is, if it is missing there.
func mountPoint(path string, fd int) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("share %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if err := os.MkdirAll(path, 0o755); err != nil {
			return fmt.Errorf("share %s: make mount point: %w", path, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("share %s: make mount point: %w", path, err)
	}
	return placeholder(path, false)
}

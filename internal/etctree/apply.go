package etctree

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/etcfs"
)

// Sink makes files and directories under /etc/netns. Plain makes them as
// `ip` users would (the CLI: they are the user's); internal/lab's sink
// journals each one first, so that the lab's teardown removes it. Every
// rel is relative to /etc/netns; every descriptor comes from etcfs.
type Sink interface {
	// OpenDir opens /etc/netns/rel, making what is missing (0755).
	OpenDir(rel string) (int, error)
	// Mkdir makes directory base in parent and returns it opened.
	Mkdir(parent int, base, rel string, it Item) (int, error)
	// Create makes file base in dir with it's content, mode and owner.
	Create(dir int, base, rel string, it Item) error
	// Rewrite replaces the content of the existing file fd (O_PATH).
	Rewrite(fd int, rel string, it Item) error
}

// Apply carries out p under /etc/netns/name. An entry that exists already
// is an error unless force (then a file gets the new content in place, so
// that programs that have it bound see it, and a directory is merged
// into). It returns what it did, one line each.
func Apply(name string, p *Plan, s Sink, force bool) ([]string, error) {
	if err := CheckDest(name, p.Path); err != nil {
		return nil, err
	}
	top := filepath.Join(name, p.Path)
	parentRel, base := filepath.Split(top)
	parent, err := s.OpenDir(strings.TrimSuffix(parentRel, "/"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", filepath.Join(etcfs.Root, parentRel), etcfs.Describe(err))
	}
	defer unix.Close(parent)
	if !force {
		if fd, err := etcfs.At(parent, base, unix.O_PATH|unix.O_NOFOLLOW, 0); err == nil {
			unix.Close(fd)
			return nil, fmt.Errorf("%s exists already (--force, or {force = true}, writes over it)", filepath.Join(etcfs.Root, top))
		}
	}
	dirs := map[string]int{filepath.Dir(p.Path): parent}
	defer func() {
		for rel, fd := range dirs {
			if rel != filepath.Dir(p.Path) {
				unix.Close(fd)
			}
		}
	}()
	var did []string
	for _, it := range p.Items {
		line, fd, err := applyItem(s, dirs[filepath.Dir(it.Rel)], name, it)
		if err != nil {
			return did, err
		}
		if it.Dir {
			dirs[it.Rel] = fd
		}
		did = append(did, line)
	}
	return did, nil
}

// applyItem makes one item in its (already open) parent directory.
func applyItem(s Sink, parent int, name string, it Item) (string, int, error) {
	rel := filepath.Join(name, it.Rel)
	full := filepath.Join(etcfs.Root, rel)
	shown := full
	if it.Dir {
		shown += "/"
	}
	what := fmt.Sprintf("%s (%04o %d:%d)", shown, it.Perm, it.UID, it.GID)
	if it.Via != "" {
		what += ", following " + it.Via
	}
	base := filepath.Base(it.Rel)
	fd, err := etcfs.At(parent, base, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if errors.Is(err, unix.ENOENT) {
		if it.Dir {
			dfd, err := s.Mkdir(parent, base, rel, it)
			return "made " + what, dfd, wrap(full, err)
		}
		return "copied " + what, -1, wrap(full, s.Create(parent, base, rel, it))
	}
	if err != nil {
		return "", -1, wrap(full, err)
	}
	defer unix.Close(fd)
	info, err := etcfs.Stat(fd)
	if err != nil {
		return "", -1, wrap(full, err)
	}
	if it.Dir {
		if !info.Dir() {
			return "", -1, fmt.Errorf("%s is %s, not a directory (remove it first: nslua etc %s rm %s)", full, info.Kind(), name, it.Rel)
		}
		dfd, err := etcfs.Reopen(fd, unix.O_RDONLY|unix.O_DIRECTORY)
		return "kept " + full + "/", dfd, wrap(full, err)
	}
	if err := etcfs.CheckFile(info); err != nil {
		return "", -1, fmt.Errorf("%s %w", full, err)
	}
	return "rewrote " + what, -1, wrap(full, s.Rewrite(fd, rel, it))
}

func wrap(full string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", full, etcfs.Describe(err))
}

// Plain is the Sink of the command line: it makes files as they are,
// journaled nowhere (as with `ip` or a shell), for the user to keep or
// remove.
type Plain struct{}

// OpenDir opens /etc/netns/rel, making missing directories on the way.
func (Plain) OpenDir(rel string) (int, error) {
	fd, err := unix.Open(HostEtc, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	parts := []string{"netns"}
	if rel != "" {
		parts = append(parts, strings.Split(rel, "/")...)
	}
	for _, part := range parts {
		next, err := etcfs.At(fd, part, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if errors.Is(err, unix.ENOENT) {
			if err = unix.Mkdirat(fd, part, 0o755); err == nil || errors.Is(err, unix.EEXIST) {
				next, err = etcfs.At(fd, part, unix.O_RDONLY|unix.O_DIRECTORY, 0)
			}
		}
		unix.Close(fd)
		if err != nil {
			return -1, err
		}
		fd = next
	}
	return fd, nil
}

// Mkdir makes a directory with the item's mode and owner.
func (Plain) Mkdir(parent int, base, rel string, it Item) (int, error) {
	if err := unix.Mkdirat(parent, base, 0o700); err != nil {
		return -1, err
	}
	fd, err := etcfs.At(parent, base, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return -1, err
	}
	if err := SetMeta(fd, it); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// Create makes a file, content, mode and owner set before it gets its
// name (O_TMPFILE, then linkat), so no one sees it half-made.
func (Plain) Create(dir int, base, rel string, it Item) error {
	fd, err := etcfs.At(dir, ".", unix.O_TMPFILE|unix.O_RDWR, 0o600)
	named := errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR)
	if named {
		fd, err = etcfs.At(dir, base, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := WriteFd(fd, it.Data); err != nil {
		return err
	}
	if err := SetMeta(fd, it); err != nil || named {
		return err
	}
	return unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", fd), dir, base, unix.AT_SYMLINK_FOLLOW)
}

// Rewrite writes the content in place, then the mode and owner.
func (Plain) Rewrite(fd int, rel string, it Item) error {
	wfd, err := etcfs.Reopen(fd, unix.O_RDWR)
	if err != nil {
		return err
	}
	defer unix.Close(wfd)
	if err := unix.Ftruncate(wfd, 0); err != nil {
		return err
	}
	if err := WriteFd(wfd, it.Data); err != nil {
		return err
	}
	return SetMeta(wfd, it)
}

// SetMeta gives fd (not O_PATH) the item's owner, then its mode (chown
// clears set-id bits, so the mode comes last).
func SetMeta(fd int, it Item) error {
	if it.UID >= 0 || it.GID >= 0 {
		if err := unix.Fchown(fd, it.UID, it.GID); err != nil {
			return err
		}
	}
	return unix.Fchmod(fd, it.Perm)
}

// WriteFd writes data at the start of fd, all of it.
func WriteFd(fd int, data []byte) error {
	for off := 0; off < len(data); {
		n, err := unix.Pwrite(fd, data[off:], int64(off))
		if err != nil {
			return err
		}
		off += n
	}
	return nil
}

// CheckDest refuses to write /etc/netns/name/rel when a symlink stands on
// the way or at its place (planted there, it would send the copy, and
// later a program inside, wherever it points): it says which and where
// it points. A missing component is fine (it will be made).
func CheckDest(name, rel string) error {
	fd, err := unix.Open(HostEtc, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	parts := append([]string{"netns", name}, strings.Split(rel, "/")...)
	for i, part := range parts {
		next, err := etcfs.At(fd, part, unix.O_PATH|unix.O_NOFOLLOW, 0)
		unix.Close(fd)
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		if err != nil {
			return err
		}
		info, err := etcfs.Stat(next)
		if err == nil && info.Mode == unix.S_IFLNK {
			target := readlinkFd(next)
			unix.Close(next)
			shown := filepath.Join(HostEtc, filepath.Join(parts[:i+1]...))
			return fmt.Errorf("%s is a symlink to %s: refused (nslua writes nothing through a symlink under /etc/netns, and binds none; `nslua etc %s rm %s` removes it)",
				shown, target, name, strings.TrimPrefix(strings.TrimPrefix(shown, filepath.Join(etcfs.Root, name)), "/"))
		}
		fd = next
	}
	unix.Close(fd)
	return nil
}

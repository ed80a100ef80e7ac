package lab

// /etc/netns files. Every access goes through internal/etcfs: by file
// descriptor, beneath a directory opened without following symlinks, and
// only to regular files with one link. Every file and directory the lab
// makes or overwrites is journaled, with its identity, before it is made
// or changed; teardown (undo_etc.go) touches only what still has it.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/etcfs"
	"github.com/nslua/nslua/internal/journal"
)

// maxEtcSize bounds what n:etc reads (and backs up) of one file.
const maxEtcSize = 16 << 20

// CheckEtcPath accepts a relative path of plain components.
func CheckEtcPath(path string) error {
	switch {
	case path == "":
		return errors.New("path is empty")
	case strings.HasPrefix(path, "/"):
		return fmt.Errorf("path %q is absolute; give it relative to /etc (e.g. \"resolv.conf\")", path)
	case strings.ContainsRune(path, 0):
		return errors.New("path contains a NUL byte")
	}
	for _, part := range strings.Split(path, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("path %q has an empty, . or .. component", path)
		}
	}
	return nil
}

// etcErr names the path at fault and why; it unwraps to the cause.
type etcErr struct {
	path string
	err  error
}

func (e *etcErr) Error() string { return e.path + ": " + etcfs.Describe(e.err).Error() }
func (e *etcErr) Unwrap() error { return e.err }

// openEtcDir opens /etc/netns/rel, making (and journaling) what is
// missing when create. It refuses symlinks on the way.
func (l *Lab) openEtcDir(rel string, create bool) (int, error) {
	fd, err := unix.Open("/etc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	parts := []string{"netns"}
	if rel != "" {
		parts = append(parts, strings.Split(rel, "/")...)
	}
	for i, part := range parts {
		here := strings.Join(parts[1:i+1], "/") // relative to /etc/netns
		next, err := etcfs.At(fd, part, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if errors.Is(err, unix.ENOENT) && create {
			next, err = l.mkdirJournaled(fd, part, here)
		}
		unix.Close(fd)
		if err != nil {
			return -1, &etcErr{filepath.Join(etcfs.Root, here), err}
		}
		fd = next
	}
	return fd, nil
}

// mkdirJournaled makes directory part of parent (rel: its name relative to
// /etc/netns), journaled first and marked for whichever lab empties it.
func (l *Lab) mkdirJournaled(parent int, part, rel string) (int, error) {
	e, err := l.j.Add(journal.Entry{Kind: journal.KindEtcDir, Name: rel})
	if err != nil {
		return -1, err
	}
	if err := unix.Mkdirat(parent, part, 0o755); err != nil {
		l.j.Gone(e)
		if !errors.Is(err, unix.EEXIST) {
			return -1, err
		}
		return etcfs.At(parent, part, unix.O_RDONLY|unix.O_DIRECTORY, 0) // another lab's, just now
	}
	fd, err := etcfs.At(parent, part, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return -1, err // the entry stays, without identity: rmdir'ed if empty
	}
	etcfs.Mark(fd)
	if info, err := etcfs.Stat(fd); err == nil {
		setID(e, info.ID)
	}
	l.j.Done(e)
	return fd, nil
}

func setID(e *journal.Entry, id etcfs.ID) { e.Dev, e.Inode, e.Birth = id.Dev, id.Ino, id.Birth }

func entryID(e *journal.Entry) etcfs.ID { return etcfs.ID{Dev: e.Dev, Ino: e.Inode, Birth: e.Birth} }

// WriteEtc writes /etc/netns/NAME/path. The file is rewritten in place, so
// that running programs that have it bound see the new content. A file
// that existed before and that this run did not write is saved first and
// restored at teardown.
func (n *Netns) WriteEtc(path, content string) error {
	if n.host {
		return errors.New("the host namespace has no /etc/netns directory; write /etc yourself")
	}
	if err := CheckEtcPath(path); err != nil {
		return err
	}
	var err error
	// A concurrent lab removes a directory it found empty (ENOENT here,
	// EEXIST when it made the file meanwhile): walk again.
	for range 20 {
		err = n.lab.writeEtcOnce(filepath.Join(n.Name, path), content)
		if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EEXIST) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("write %w", err)
	}
	return nil
}

func (l *Lab) writeEtcOnce(rel, content string) error {
	full := filepath.Join(etcfs.Root, rel)
	dirRel, base := filepath.Split(rel)
	dirFd, err := l.openEtcDir(strings.TrimSuffix(dirRel, "/"), true)
	if err != nil {
		return err
	}
	defer unix.Close(dirFd)
	fd, err := etcfs.At(dirFd, base, unix.O_PATH, 0)
	switch {
	case err == nil:
		defer unix.Close(fd)
		err = l.rewrite(fd, rel, content)
	case errors.Is(err, unix.ENOENT):
		err = l.createEtc(dirFd, base, rel, content)
	}
	if err != nil && !errors.As(err, new(*etcErr)) {
		err = &etcErr{full, err}
	}
	return err
}

// rewrite writes content over an existing file, backing it up first when
// it is not the one this run made or backed up already.
func (l *Lab) rewrite(fd int, rel, content string) error {
	info, err := etcfs.Stat(fd)
	if err != nil {
		return err
	}
	if err := etcfs.CheckFile(info); err != nil {
		return err
	}
	l.mu.Lock()
	id, ours := l.etcFiles[rel]
	l.mu.Unlock()
	if !ours || !id.Same(info.ID) {
		if err := l.backup(fd, rel, info); err != nil {
			return err
		}
	}
	wfd, err := etcfs.Reopen(fd, unix.O_RDWR)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(wfd), rel)
	defer f.Close()
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err = f.WriteAt([]byte(content), 0)
	return err
}

func (l *Lab) backup(fd int, rel string, info etcfs.Info) error {
	old, err := etcfs.ReadAll(fd, maxEtcSize)
	if err != nil {
		return err
	}
	path, err := l.j.SaveBackup(old)
	if err != nil {
		return err
	}
	// Another lab's file (two labs writing for one shared namespace): this
	// lab takes it over; undo_etc.go hands it back, or removes it if that
	// lab has ended meanwhile.
	from := etcfs.Writer(fd)
	if from == l.Name {
		from = ""
	}
	e := journal.Entry{Kind: journal.KindEtcFile, Name: rel, Backup: path, Done: true, Owner: l.Name, From: from}
	setID(&e, info.ID)
	if _, err := l.j.Add(e); err != nil {
		return err
	}
	etcfs.SetWriter(fd, l.Name)
	l.mu.Lock()
	l.etcFiles[rel] = info.ID
	l.mu.Unlock()
	return nil
}

// createEtc makes a new file, content and all, as an unnamed file first
// (O_TMPFILE): its identity is journaled before it gets a name, so that
// teardown never mistakes another file for it.
func (l *Lab) createEtc(dirFd int, base, rel, content string) error {
	fd, err := etcfs.At(dirFd, ".", unix.O_TMPFILE|unix.O_RDWR, 0o644)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) {
		return l.createNamed(dirFd, base, rel, content)
	}
	if err != nil {
		if info, serr := etcfs.Stat(dirFd); serr == nil && info.Nlink == 0 {
			return unix.ENOENT // another lab removed the directory (ext4 says EPERM)
		}
		return err
	}
	defer unix.Close(fd)
	if err := writeAll(fd, content); err != nil {
		return err
	}
	etcfs.SetWriter(fd, l.Name)
	info, err := etcfs.Stat(fd)
	if err != nil {
		return err
	}
	e := journal.Entry{Kind: journal.KindEtcFile, Name: rel, Done: true, Owner: l.Name}
	setID(&e, info.ID)
	entry, err := l.j.Add(e)
	if err != nil {
		return err
	}
	err = unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", fd), dirFd, base, unix.AT_SYMLINK_FOLLOW)
	if err != nil {
		l.j.Gone(entry)
		return err
	}
	l.mu.Lock()
	l.etcFiles[rel] = info.ID
	l.mu.Unlock()
	return nil
}

// createNamed is createEtc for filesystems without O_TMPFILE: the file is
// journaled, made empty, then identified.
func (l *Lab) createNamed(dirFd int, base, rel, content string) error {
	e, err := l.j.Add(journal.Entry{Kind: journal.KindEtcFile, Name: rel, Owner: l.Name})
	if err != nil {
		return err
	}
	fd, err := etcfs.At(dirFd, base, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o644)
	if err != nil {
		l.j.Gone(e)
		return err
	}
	defer unix.Close(fd)
	etcfs.SetWriter(fd, l.Name)
	info, err := etcfs.Stat(fd)
	if err != nil {
		return err
	}
	setID(e, info.ID)
	if err := l.j.Done(e); err != nil {
		return err
	}
	l.mu.Lock()
	l.etcFiles[rel] = info.ID
	l.mu.Unlock()
	return writeAll(fd, content)
}

func writeAll(fd int, content string) error {
	for off := 0; off < len(content); {
		n, err := unix.Pwrite(fd, []byte(content[off:]), int64(off))
		if err != nil {
			return err
		}
		off += n
	}
	return nil
}

// ReadEtc reads /etc/netns/NAME/path; found is false when it does not exist.
func (n *Netns) ReadEtc(path string) (content string, found bool, err error) {
	if err := CheckEtcPath(path); err != nil {
		return "", false, err
	}
	dirFd, err := n.lab.openEtcDir(n.Name, false)
	if errors.Is(err, unix.ENOENT) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %w", err)
	}
	defer unix.Close(dirFd)
	full := filepath.Join(etcfs.Root, n.Name, path)
	fd, err := etcfs.At(dirFd, path, unix.O_PATH, 0)
	if errors.Is(err, unix.ENOENT) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %w", &etcErr{full, err})
	}
	defer unix.Close(fd)
	info, err := etcfs.Stat(fd)
	if err == nil {
		err = etcfs.CheckFile(info)
	}
	var data []byte
	if err == nil {
		data, err = etcfs.ReadAll(fd, maxEtcSize)
	}
	if err != nil {
		return "", false, fmt.Errorf("read %w", &etcErr{full, err})
	}
	return string(data), true, nil
}

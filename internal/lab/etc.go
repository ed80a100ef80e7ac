package lab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsexec"
)

// resolveBeneath keeps every /etc/netns access inside the namespace's own
// directory: no "..", no absolute paths, no symlinks planted by anyone.
var resolveBeneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

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

// etcDir opens /etc/netns/NAME, making (and journaling) what is missing.
// It refuses symlinks on the way, so it never writes outside that tree.
func (n *Netns) etcDir(create bool) (int, error) {
	root, err := unix.Open("/etc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(root)
	return n.lab.walkDirs(root, "/etc", []string{"netns", n.Name}, "", create)
}

// walkDirs descends parts from dirFd (at shown path), creating missing
// directories when asked; each one it makes is journaled first. The journal
// names them relative to /etc/netns.
func (l *Lab) walkDirs(dirFd int, shown string, parts []string, rel string, create bool) (int, error) {
	fd, err := unix.Dup(dirFd)
	if err != nil {
		return -1, err
	}
	for _, part := range parts {
		shown = filepath.Join(shown, part)
		if shown != "/etc/netns" {
			rel = strings.TrimPrefix(filepath.Join(rel, part), "/")
		}
		next, err := unix.Openat2(fd, part, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: uint64(resolveBeneath)})
		if errors.Is(err, unix.ENOENT) && create {
			next, err = l.mkdirJournaled(fd, part, shown, rel)
		}
		unix.Close(fd)
		if err != nil {
			return -1, fmt.Errorf("%s: %w", shown, describe(err))
		}
		fd = next
	}
	return fd, nil
}

func (l *Lab) mkdirJournaled(parent int, part, shown, rel string) (int, error) {
	name := rel
	if shown == "/etc/netns" {
		name = "" // the root of all namespaces' /etc files
	}
	e, err := l.j.Add(journal.Entry{Kind: journal.KindEtcDir, Name: name})
	if err != nil {
		return -1, err
	}
	if err := unix.Mkdirat(parent, part, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		l.j.Gone(e)
		return -1, err
	}
	l.j.Done(e)
	return unix.Openat2(parent, part, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: uint64(resolveBeneath)})
}

func describe(err error) error {
	switch {
	case errors.Is(err, unix.ELOOP):
		return errors.New("is a symlink (refused: nslua does not follow symlinks under /etc/netns)")
	case errors.Is(err, unix.EXDEV):
		return errors.New("leads outside /etc/netns (refused)")
	case errors.Is(err, unix.ENOTDIR):
		return errors.New("is not a directory")
	}
	return err
}

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
	dirFd, err := n.etcDir(true)
	if err != nil {
		return err
	}
	defer unix.Close(dirFd)
	parent, base := filepath.Split(path)
	if parent != "" {
		sub, err := n.lab.walkDirs(dirFd, filepath.Join(nsexec.EtcRoot, n.Name), strings.Split(strings.TrimSuffix(parent, "/"), "/"), n.Name, true)
		if err != nil {
			return err
		}
		defer unix.Close(sub)
		dirFd = sub
	}
	return n.lab.writeFileJournaled(dirFd, base, filepath.Join(n.Name, path), content)
}

func (l *Lab) writeFileJournaled(dirFd int, base, rel, content string) error {
	full := filepath.Join(nsexec.EtcRoot, rel)
	how := &unix.OpenHow{Flags: unix.O_RDWR | unix.O_CLOEXEC | unix.O_NOFOLLOW, Resolve: uint64(resolveBeneath)}
	fd, err := unix.Openat2(dirFd, base, how)
	l.mu.Lock()
	ours := l.etcFiles[rel]
	l.mu.Unlock()
	switch {
	case err == nil && !ours:
		err = l.backupThenTruncate(fd, rel)
	case err == nil:
		err = unix.Ftruncate(fd, 0)
	case errors.Is(err, unix.ENOENT):
		fd, err = l.createJournaled(dirFd, base, rel)
	}
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return fmt.Errorf("write %s: %w", full, describe(err))
	}
	f := os.NewFile(uintptr(fd), full)
	defer f.Close()
	if _, err := f.WriteAt([]byte(content), 0); err != nil {
		return fmt.Errorf("write %s: %w", full, err)
	}
	return nil
}

func (l *Lab) createJournaled(dirFd int, base, rel string) (int, error) {
	e, err := l.j.Add(journal.Entry{Kind: journal.KindEtcFile, Name: rel})
	if err != nil {
		return -1, err
	}
	how := &unix.OpenHow{Flags: unix.O_RDWR | unix.O_CREAT | unix.O_EXCL | unix.O_CLOEXEC, Mode: 0o644, Resolve: uint64(resolveBeneath)}
	fd, err := unix.Openat2(dirFd, base, how)
	if err != nil {
		l.j.Gone(e)
		return -1, err
	}
	l.j.Done(e)
	l.mu.Lock()
	l.etcFiles[rel] = true
	l.mu.Unlock()
	return fd, nil
}

func (l *Lab) backupThenTruncate(fd int, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return errors.New("is not a regular file")
	}
	old, err := readAllAt(fd, st.Size)
	if err != nil {
		return err
	}
	backup := filepath.Join(l.Dir, "backup", fmt.Sprintf("%d", l.nextSeq()))
	if err := os.MkdirAll(filepath.Dir(backup), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(backup, old, 0o600); err != nil {
		return err
	}
	e, err := l.j.Add(journal.Entry{Kind: journal.KindEtcFile, Name: rel, Backup: backup})
	if err != nil {
		return err
	}
	l.j.Done(e)
	l.mu.Lock()
	l.etcFiles[rel] = true
	l.mu.Unlock()
	return unix.Ftruncate(fd, 0)
}

func readAllAt(fd int, size int64) ([]byte, error) {
	buf := make([]byte, size)
	for off := 0; off < len(buf); {
		n, err := unix.Pread(fd, buf[off:], int64(off))
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf[:off], nil
		}
		off += n
	}
	return buf, nil
}

// ReadEtc reads /etc/netns/NAME/path; found is false when it does not exist.
func (n *Netns) ReadEtc(path string) (content string, found bool, err error) {
	if err := CheckEtcPath(path); err != nil {
		return "", false, err
	}
	dirFd, err := n.etcDir(false)
	if errors.Is(err, unix.ENOENT) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	defer unix.Close(dirFd)
	how := &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC, Resolve: uint64(resolveBeneath)}
	fd, err := unix.Openat2(dirFd, path, how)
	if errors.Is(err, unix.ENOENT) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s/%s/%s: %w", nsexec.EtcRoot, n.Name, path, describe(err))
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	data, err := io.ReadAll(f)
	return string(data), err == nil, err
}

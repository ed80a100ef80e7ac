package lab

// n:etc_copy: the host's /etc files copied into /etc/netns/NAME, modes
// and owners kept, every file and directory journaled before it is made
// (internal/etctree plans and walks; this file is its journaling Sink).

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/etcfs"
	"github.com/nslua/nslua/internal/etctree"
	"github.com/nslua/nslua/internal/journal"
)

// EtcCopyOptions: Follow copies what a host symlink points to (else it is
// refused); Force writes over an existing entry (its old content is
// restored at teardown, as for WriteEtc).
type EtcCopyOptions struct {
	Follow, Force bool
}

// EtcCopy copies the host's /etc/path (a file or a directory tree) into
// /etc/netns/NAME/path and returns what it made, one line each. A host
// without /etc/path is an error: a lab never creates files in the host's
// /etc (write the namespace's with WriteEtc: nslua's exec binds it anyway).
func (n *Netns) EtcCopy(path string, opts EtcCopyOptions) ([]string, error) {
	if n.host {
		return nil, errors.New("the host namespace has no /etc/netns directory")
	}
	rel, err := etctree.CleanPath(path)
	if err != nil {
		return nil, err
	}
	if err := etctree.CheckDest(n.Name, rel); err != nil {
		return nil, err
	}
	plan, err := etctree.PlanCopy(rel, opts.Follow)
	if errors.Is(err, etctree.ErrHostMissing) {
		return nil, fmt.Errorf("the host has no /etc/%s: nothing to copy (n:etc(%q, content) writes the namespace's own; nslua's exec binds it anyway, `ip netns exec` only over an existing /etc/%s)", rel, rel, rel)
	}
	if err != nil {
		return nil, err
	}
	return etctree.Apply(n.Name, plan, labSink{n.lab}, opts.Force)
}

// labSink makes what etctree.Apply asks for, journaled first.
type labSink struct{ l *Lab }

func (s labSink) OpenDir(rel string) (int, error) { return s.l.openEtcDir(rel, true) }

func (s labSink) Rewrite(fd int, rel string, it etctree.Item) error {
	return s.l.rewrite(fd, rel, string(it.Data))
}

// Mkdir journals the directory, makes it private (0700) until its owner
// and mode are the host's, and marks it as nslua's.
func (s labSink) Mkdir(parent int, base, rel string, it etctree.Item) (int, error) {
	e, err := s.l.j.Add(journal.Entry{Kind: journal.KindEtcDir, Name: rel})
	if err != nil {
		return -1, err
	}
	if err := unix.Mkdirat(parent, base, 0o700); err != nil {
		s.l.j.Gone(e)
		return -1, err
	}
	fd, err := etcfs.At(parent, base, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return -1, err // the entry stays, without identity: rmdir'ed if empty
	}
	etcfs.Mark(fd)
	if info, err := etcfs.Stat(fd); err == nil {
		setID(e, info.ID)
	}
	s.l.j.Done(e)
	if err := etctree.SetMeta(fd, it); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// Create makes the file unnamed (O_TMPFILE) with its content, owner and
// mode, journals its identity, then names it, as createEtc does.
func (s labSink) Create(dir int, base, rel string, it etctree.Item) error {
	fd, err := etcfs.At(dir, ".", unix.O_TMPFILE|unix.O_RDWR, 0o600)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) {
		return s.createNamed(dir, base, rel, it)
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := etctree.WriteFd(fd, it.Data); err != nil {
		return err
	}
	if err := etctree.SetMeta(fd, it); err != nil {
		return err
	}
	etcfs.SetWriter(fd, s.l.Name)
	info, err := etcfs.Stat(fd)
	if err != nil {
		return err
	}
	e := journal.Entry{Kind: journal.KindEtcFile, Name: rel, Done: true, Owner: s.l.Name}
	setID(&e, info.ID)
	entry, err := s.l.j.Add(e)
	if err != nil {
		return err
	}
	err = unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", fd), dir, base, unix.AT_SYMLINK_FOLLOW)
	if err != nil {
		s.l.j.Gone(entry)
		return err
	}
	s.l.mu.Lock()
	s.l.etcFiles[rel] = info.ID
	s.l.mu.Unlock()
	return nil
}

func (s labSink) createNamed(dir int, base, rel string, it etctree.Item) error {
	if err := s.l.createNamed(dir, base, rel, string(it.Data)); err != nil {
		return err
	}
	fd, err := etcfs.At(dir, base, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	wfd, err := etcfs.Reopen(fd, unix.O_RDONLY)
	if err != nil {
		return err
	}
	defer unix.Close(wfd)
	return etctree.SetMeta(wfd, it)
}

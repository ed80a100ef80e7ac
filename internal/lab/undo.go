package lab

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsfs"
)

// undoer removes journaled resources. The same code serves a run's own
// teardown and `nslua down` after a crash: the journal is the only truth.
type undoer struct {
	run     string // the NSLUA_RUN marker of the run's processes ("" = none)
	runNs   uint64 // only marked processes in this namespace (0 = anywhere)
	log     io.Writer
	verbose bool // say what was removed (down), not only what failed
	errs    []error
}

func (u *undoer) did(format string, args ...any) {
	if u.verbose {
		fmt.Fprintf(u.log, "  "+format+"\n", args...)
	}
}

func (u *undoer) fail(err error) {
	fmt.Fprintf(u.log, "nslua: teardown: %v\n", err)
	u.errs = append(u.errs, err)
}

// undoAll removes entries, given newest first. Processes go first, all at
// once (everything else may be in use by them), then the rest in reverse
// order of creation.
func undoAll(entries []*journal.Entry, l *Lab, log io.Writer) []error {
	u := &undoer{log: log}
	if l != nil {
		u.run = l.markerIfStarted()
	}
	return u.undo(entries, l)
}

func (u *undoer) undo(entries []*journal.Entry, l *Lab) []error {
	u.stopProcesses(entries)
	for _, e := range entries {
		var err error
		switch e.Kind {
		case journal.KindLink:
			err = u.removeLink(e)
		case journal.KindEtcFile:
			err = u.removeEtcFile(e)
		case journal.KindEtcDir:
			u.removeEtcDir(e)
		case journal.KindNetns, journal.KindPin:
			err = u.unpin(e)
		}
		if err != nil {
			u.fail(err)
			continue
		}
		if l != nil && e.Kind != journal.KindProc {
			l.j.Gone(e)
		}
	}
	return u.errs
}

func (u *undoer) unpin(e *journal.Entry) error {
	path := nsfs.PinPath(e.Name)
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if e.Done {
		if ino, err := nsfs.Inode(path); err == nil && ino != e.Inode {
			u.did("left %s: it is another namespace now (inode %d, ours was %d)", path, ino, e.Inode)
			return nil
		}
	}
	if err := nsfs.Unpin(e.Name); err != nil {
		return err
	}
	u.did("removed namespace %s", e.Name)
	return nil
}

func (u *undoer) removeLink(e *journal.Entry) error {
	h, err := handleFor(e)
	if err != nil || h == nil {
		return err // the namespace is gone, and its links with it
	}
	defer h.Close()
	link, err := h.LinkByName(e.Name)
	if err != nil {
		return nil // already gone (a veth dies with its peer's namespace)
	}
	if e.Done && link.Attrs().Index != e.Index {
		u.did("left link %s: it is not the one this lab made", e.Name)
		return nil
	}
	if err := h.LinkDel(link); err != nil {
		return fmt.Errorf("delete link %s: %w", e.Name, err)
	}
	u.did("removed link %s", e.Name)
	return nil
}

// handleFor opens a netlink handle in the namespace of a link entry; nil
// when that namespace no longer is the one recorded.
func handleFor(e *journal.Entry) (*netlink.Handle, error) {
	if e.NsPath == "" {
		return netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	if ino, err := nsfs.Inode(e.NsPath); err != nil || ino != e.NsIno {
		return nil, nil
	}
	fd, err := unix.Open(e.NsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil
	}
	defer unix.Close(fd)
	return nsfs.HandleAt(fd)
}

// Down removes what the journal of lab name lists. It reports on out and
// is safe to repeat: a lab that is not there is not an error.
func Down(name string, out io.Writer) error {
	lock, err := journal.Lock(name)
	if err != nil {
		return err
	}
	defer lock.Close()
	st, err := journal.Read(name)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(out, "lab %s: nothing to remove\n", name)
		return journal.RemoveDir(name)
	}
	if err != nil {
		return fmt.Errorf("lab %q: read journal: %w", name, err)
	}
	fmt.Fprintf(out, "lab %s:\n", name)
	u := &undoer{log: out, verbose: true, run: marker(st)}
	if errs := u.undo(st.Live(), nil); len(errs) > 0 {
		return fmt.Errorf("lab %q: %w", name, errors.Join(errs...))
	}
	return journal.RemoveDir(name)
}

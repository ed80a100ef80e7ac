package lab

// Undoing /etc/netns entries: by descriptor, beneath directories opened
// without following symlinks, and only what still has the identity the
// journal recorded. A file someone else put in place is left and reported.

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

// left reports something teardown did not remove, and why: always, for
// it is a decision the user may want to revisit.
func (u *undoer) left(format string, args ...any) {
	if u.verbose {
		fmt.Fprintf(u.log, "  left "+format+"\n", args...)
	} else {
		fmt.Fprintf(u.log, "nslua: teardown: left "+format+"\n", args...)
	}
}

// removeEtcFile removes a file the lab made, or restores one it overwrote.
func (u *undoer) removeEtcFile(e *journal.Entry) error {
	full := filepath.Join(etcfs.Root, e.Name)
	dirRel, base := filepath.Split(e.Name)
	dirRel = strings.TrimSuffix(dirRel, "/")
	dirFd, err := etcfs.OpenDir(dirRel)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		u.left("%s: %s: %v", full, filepath.Join(etcfs.Root, dirRel), etcfs.Describe(err))
		return nil
	}
	defer unix.Close(dirFd)
	fd, err := etcfs.At(dirFd, base, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", full, err)
	}
	defer unix.Close(fd)
	info, err := etcfs.Stat(fd)
	if err != nil {
		return fmt.Errorf("remove %s: %w", full, err)
	}
	if why := notOurs(e, info); why != "" {
		u.left("%s: %s", full, why)
		return nil
	}
	switch {
	case e.Backup != "" && (e.From == "" || holdsLive(e.From, info.ID)):
		err := u.restore(fd, full, e.Backup)
		if err == nil && e.From != "" {
			etcfs.SetWriter(fd, e.From) // back to the lab it was taken from
		}
		return err
	case e.Backup == "":
		if w := etcfs.Writer(fd); w != "" && e.Owner != "" && w != e.Owner && holdsLive(w, info.ID) {
			u.did("left %s: lab %s has written it since, and removes it when it ends", full, w)
			return nil
		}
	}
	// Made by this lab, or taken over from one that has ended since.
	if err := unix.Unlinkat(dirFd, base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %s: %w", full, err)
	}
	if e.Backup != "" {
		os.Remove(e.Backup)
	}
	u.did("removed %s", full)
	u.tidyEtc(dirRel)
	return nil
}

// holdsLive reports whether lab's journal lists the file id as its own
// still (made or taken over, not undone).
func holdsLive(lab string, id etcfs.ID) bool {
	if journal.ValidateLabName(lab) != nil {
		return false
	}
	st, err := journal.Read(lab)
	if err != nil {
		return false
	}
	for _, e := range st.Live() {
		if e.Kind == journal.KindEtcFile && e.Inode != 0 && entryID(e).Same(id) {
			return true
		}
	}
	return false
}

// notOurs says why the file found is not the one the entry records ("" if
// it is). Entries without identity come from a run that died between
// journaling a file and making it (then ours is empty), or from an older
// nslua that recorded none.
func notOurs(e *journal.Entry, info etcfs.Info) string {
	switch {
	case !info.Regular():
		return "it is " + info.Kind() + " now, not the file this lab wrote"
	case e.Inode != 0 && !entryID(e).Same(info.ID):
		return "another file has taken its place since this lab wrote it"
	case info.Nlink > 1:
		return fmt.Sprintf("it has %d hard links now", info.Nlink)
	case e.Inode == 0 && !e.Done && info.Size > 0:
		return "the run died while making it, and it holds what the run did not write"
	}
	return ""
}

// restore puts back a file the lab overwrote, in place (same inode, so a
// program that has it bound sees it). The backup goes once the file is
// synced; a restore interrupted before is done again, after, found done.
func (u *undoer) restore(fd int, full, backup string) error {
	old, err := os.ReadFile(backup)
	if errors.Is(err, os.ErrNotExist) {
		u.did("%s: restored already", full)
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore %s: %w", full, err)
	}
	wfd, err := etcfs.Reopen(fd, unix.O_WRONLY)
	if err != nil {
		return fmt.Errorf("restore %s: %w", full, err)
	}
	f := os.NewFile(uintptr(wfd), full)
	defer f.Close()
	err = f.Truncate(0)
	if err == nil {
		err = writeAll(wfd, string(old))
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		return fmt.Errorf("restore %s: %w", full, err)
	}
	u.did("restored %s", full)
	return os.Remove(backup)
}

// removeEtcDir removes a directory the lab made, if it is still that one
// and nothing else is in it.
func (u *undoer) removeEtcDir(e *journal.Entry) {
	parent, base, err := openParent(e.Name)
	if err != nil {
		return
	}
	defer unix.Close(parent)
	fd, err := etcfs.At(parent, base, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return
	}
	info, err := etcfs.Stat(fd)
	unix.Close(fd)
	if err != nil || !info.Dir() || (e.Inode != 0 && !entryID(e).Same(info.ID)) {
		return
	}
	if unix.Unlinkat(parent, base, unix.AT_REMOVEDIR) == nil {
		u.did("removed %s", filepath.Join(etcfs.Root, e.Name))
	}
}

// tidyEtc removes rel and its parents, up to /etc/netns itself, as long as
// they are empty and marked as nslua's (etcfs.Mark): the last lab out of a
// shared directory removes it, whichever made it.
func (u *undoer) tidyEtc(rel string) {
	for {
		parent, base, err := openParent(rel)
		if err != nil {
			return
		}
		fd, err := etcfs.At(parent, base, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err == nil {
			if !etcfs.Marked(fd) {
				err = unix.ENOTEMPTY // not ours to remove: stop here
			} else {
				err = unix.Unlinkat(parent, base, unix.AT_REMOVEDIR)
			}
			unix.Close(fd)
		}
		unix.Close(parent)
		if err != nil {
			return
		}
		u.did("removed %s", filepath.Join(etcfs.Root, rel))
		if rel == "" {
			return
		}
		rel = filepath.Dir(rel)
		if rel == "." {
			rel = ""
		}
	}
}

// openParent opens the directory holding /etc/netns/rel and names rel in
// it; for rel "" (/etc/netns itself) that is /etc.
func openParent(rel string) (int, string, error) {
	if rel == "" {
		fd, err := unix.Open("/etc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		return fd, "netns", err
	}
	dir, base := filepath.Split(rel)
	fd, err := etcfs.OpenDir(strings.TrimSuffix(dir, "/"))
	return fd, base, err
}

package etcfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// markAttr flags a directory nslua made under /etc/netns. Whichever lab
// empties it removes it: labs sharing a directory (two labs writing files
// for one `ip`-made namespace, or /etc/netns itself), ending in any order,
// leave none behind, and a directory someone else made is never removed.
const markAttr = "trusted.nslua.made"

// Mark flags dirFd (not an O_PATH descriptor) as made by nslua. It is best
// effort: on a filesystem without xattrs, only the lab that made a
// directory removes it (from its journal).
func Mark(dirFd int) { unix.Fsetxattr(dirFd, markAttr, []byte("1"), 0) }

// Marked reports whether Mark flagged dirFd.
func Marked(dirFd int) bool {
	_, err := unix.Fgetxattr(dirFd, markAttr, nil)
	return err == nil
}

// writerAttr names the lab that last made or overwrote a file: a lab that
// overwrites another running lab's file takes it over (see internal/lab's
// undo_etc.go), and the first one must then leave it.
const writerAttr = "trusted.nslua.lab"

func procPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// SetWriter records lab as the last writer of fd's file (any descriptor,
// O_PATH included). Best effort, as Mark.
func SetWriter(fd int, lab string) { unix.Setxattr(procPath(fd), writerAttr, []byte(lab), 0) }

// Writer returns what SetWriter recorded ("" if nothing).
func Writer(fd int) string {
	buf := make([]byte, 256)
	n, err := unix.Getxattr(procPath(fd), writerAttr, buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

// Names lists a directory's entries (dirFd is not consumed).
func Names(dirFd int) ([]string, error) {
	fd, err := Reopen(dirFd, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "")
	defer f.Close()
	return f.Readdirnames(-1)
}

// maxTree bounds CheckTree: a directory bound over /etc is a handful of
// files, not a tree to walk for minutes.
const maxTree = 10000

// CheckTree refuses a directory to be bound over /etc that holds, at any
// depth, a regular file with more than one link: written through from
// inside the namespace, it would change the host file it is another name
// of. (Symlinks inside are resolved in the namespace, where /etc is a
// copy-on-write overlay.) shown names dirFd in errors.
func CheckTree(dirFd int, shown string) error {
	budget := maxTree
	return checkTree(dirFd, shown, 0, &budget)
}

func checkTree(dirFd int, shown string, depth int, budget *int) error {
	names, err := Names(dirFd)
	if err != nil {
		return fmt.Errorf("read %s: %w", shown, err)
	}
	for _, name := range names {
		if *budget--; *budget < 0 || depth > 32 {
			return fmt.Errorf("%s holds more than %d files or levels (refused)", shown, maxTree)
		}
		path := filepath.Join(shown, name)
		fd, err := At(dirFd, name, unix.O_PATH|unix.O_NOFOLLOW, 0)
		if err != nil {
			continue // removed meanwhile
		}
		info, err := Stat(fd)
		if err == nil && info.Dir() {
			var sub int
			if sub, err = Reopen(fd, unix.O_RDONLY|unix.O_DIRECTORY); err == nil {
				err = checkTree(sub, path, depth+1, budget)
				unix.Close(sub)
			}
		} else if err == nil && info.Regular() && info.Nlink > 1 {
			err = fmt.Errorf("%s %w", path, CheckFile(info))
		}
		unix.Close(fd)
		if err != nil {
			return err
		}
	}
	return nil
}

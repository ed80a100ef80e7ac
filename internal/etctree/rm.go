package etctree

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/etcfs"
)

// openParent opens the directory of /etc/netns/name/rel (no symlink on
// the way) and names the entry in it.
func openParent(name, rel string) (int, string, error) {
	dir, base := filepath.Split(filepath.Join(name, rel))
	fd, err := etcfs.OpenDir(strings.TrimSuffix(dir, "/"))
	if err != nil {
		return -1, "", fmt.Errorf("open %s: %w", filepath.Join(etcfs.Root, dir), etcfs.Describe(err))
	}
	return fd, base, nil
}

// Remove removes /etc/netns/name/path: a file, a symlink (the link, never
// what it points to), or a directory and all it holds. It returns what it
// removed, one line each.
func Remove(name, path string) ([]string, error) {
	rel, err := CleanPath(path)
	if err != nil {
		return nil, err
	}
	parent, base, err := openParent(name, rel)
	if err != nil {
		return nil, err
	}
	defer unix.Close(parent)
	full := filepath.Join(etcfs.Root, name, rel)
	var did []string
	budget := MaxItems
	err = removeAt(parent, base, full, &did, &budget)
	if errors.Is(err, unix.ENOENT) && len(did) == 0 {
		return nil, fmt.Errorf("%s does not exist", full)
	}
	return did, err
}

func removeAt(parent int, base, full string, did *[]string, budget *int) error {
	if *budget--; *budget < 0 {
		return fmt.Errorf("%s: more than %d entries (refused)", full, MaxItems)
	}
	fd, err := etcfs.At(parent, base, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	info, err := etcfs.Stat(fd)
	if err == nil && info.Dir() {
		var sub int
		if sub, err = etcfs.Reopen(fd, unix.O_RDONLY|unix.O_DIRECTORY); err == nil {
			err = removeChildren(sub, full, did, budget)
			unix.Close(sub)
		}
	}
	unix.Close(fd)
	if err != nil {
		return err
	}
	flags := 0
	if info.Dir() {
		flags = unix.AT_REMOVEDIR
	}
	if err := unix.Unlinkat(parent, base, flags); err != nil {
		return fmt.Errorf("remove %s: %w", full, err)
	}
	*did = append(*did, "removed "+full)
	return nil
}

func removeChildren(dirFd int, full string, did *[]string, budget *int) error {
	names, err := etcfs.Names(dirFd)
	if err != nil {
		return fmt.Errorf("read %s: %w", full, err)
	}
	for _, n := range names {
		if err := removeAt(dirFd, n, filepath.Join(full, n), did, budget); err != nil && !errors.Is(err, unix.ENOENT) {
			return err
		}
	}
	return nil
}

// ReadFile reads the regular file /etc/netns/name/path by descriptor;
// found is false when there is none. A symlink, a hard link or a special
// file is an error.
func ReadFile(name, path string) (data []byte, info Entry, found bool, err error) {
	rel, err := CleanPath(path)
	if err != nil {
		return nil, info, false, err
	}
	full := filepath.Join(etcfs.Root, name, rel)
	parent, base, err := openParent(name, rel)
	if errors.Is(err, unix.ENOENT) {
		return nil, info, false, nil
	}
	if err != nil {
		return nil, info, false, err
	}
	defer unix.Close(parent)
	fd, err := etcfs.At(parent, base, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, info, false, nil
	}
	if err != nil {
		return nil, info, false, fmt.Errorf("%s: %w", full, etcfs.Describe(err))
	}
	defer unix.Close(fd)
	info = describe(fd, rel, nil)
	st, err := etcfs.Stat(fd)
	if err == nil {
		err = etcfs.CheckFile(st)
	}
	if err == nil {
		data, err = etcfs.ReadAll(fd, MaxFile)
	}
	if err != nil {
		return nil, info, true, fmt.Errorf("%s %w", full, err)
	}
	return data, info, true, nil
}

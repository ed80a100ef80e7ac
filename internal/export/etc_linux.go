package export

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"

	"golang.org/x/sys/unix"
)

// maxEtcFile bounds what one exported file may hold: /etc files are small,
// and a script is no place for a large one.
const maxEtcFile = 1 << 20

// ReadEtc reads the regular files under dir (/etc/netns/NAME) without
// following symbolic links, which are reported in skipped instead, as is
// anything that is not a regular file or directory. A missing dir has no
// files.
func ReadEtc(dir string) (files []EtcFile, skipped []string, err error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil, nil
	}
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return nil, []string{"(the directory itself is a symlink or not a directory: not exported)"}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(fd)
	w := &etcWalk{}
	if err := w.dir(fd, ""); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return w.files, w.skipped, nil
}

type etcWalk struct {
	files   []EtcFile
	skipped []string
}

func (w *etcWalk) dir(fd int, rel string) error {
	names, err := readNames(fd)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := w.entry(fd, name, path.Join(rel, name)); err != nil {
			return err
		}
	}
	return nil
}

func (w *etcWalk) entry(dirFd int, name, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dirFd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		fd, err := unix.Openat(dirFd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		defer unix.Close(fd)
		return w.dir(fd, rel)
	case unix.S_IFREG:
		if st.Size > maxEtcFile {
			w.skipped = append(w.skipped, fmt.Sprintf("%s: %d bytes, too large to export", rel, st.Size))
			return nil
		}
		data, err := readFileAt(dirFd, name, st.Size)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		w.files = append(w.files, EtcFile{Path: rel, Content: string(data)})
	case unix.S_IFLNK:
		w.skipped = append(w.skipped, rel+": a symlink, not exported (nslua refuses symlinks in /etc/netns)")
	default:
		w.skipped = append(w.skipped, rel+": not a regular file, not exported")
	}
	return nil
}

func readFileAt(dirFd int, name string, size int64) ([]byte, error) {
	fd, err := unix.Openat(dirFd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf := make([]byte, size+1)
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err != nil {
			return nil, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	if n > int(size) {
		return nil, errors.New("grew while being read")
	}
	return buf[:n], nil
}

// readNames lists a directory's entries, sorted.
func readNames(fd int) ([]string, error) {
	dup, err := unix.Dup(fd)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(dup), "dir")
	defer f.Close()
	names, err := f.Readdirnames(-1)
	sort.Strings(names)
	return names, err
}

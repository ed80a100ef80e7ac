// Package etcfs is the one way nslua touches /etc/netns: by file
// descriptor, each path resolved beneath an already opened directory with
// openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), so that a symlink planted
// anywhere on the way (the NAME directory itself, a subdirectory, the last
// component) is refused instead of followed; and only regular files with a
// single link are read, written or bound (a FIFO would block, a device
// would be read for ever, a hard link may be a host file's other name).
// What was checked is what is used: files are reopened through
// /proc/self/fd, never looked up again by path.
package etcfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Root is where per-namespace /etc files live, as for `ip netns exec`.
const Root = "/etc/netns"

const resolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// At opens path beneath dirFd without following any symlink (the last
// component included: O_PATH|O_NOFOLLOW gives the link itself).
func At(dirFd int, path string, flags int, mode uint32) (int, error) {
	how := &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Mode: uint64(mode), Resolve: resolve}
	for {
		fd, err := unix.Openat2(dirFd, path, how)
		if err != unix.EINTR && err != unix.EAGAIN { // EAGAIN: a rename raced the walk
			return fd, err
		}
	}
}

// OpenDir opens Root/rel (rel "" is Root itself) as a directory, read-only
// so that its entries and marks can be read. /etc itself is trusted.
func OpenDir(rel string) (int, error) {
	etc, err := unix.Open("/etc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(etc)
	return At(etc, filepath.Join("netns", rel), unix.O_RDONLY|unix.O_DIRECTORY, 0)
}

// Reopen opens the file fd refers to (an O_PATH descriptor, say) again
// with flags: the same inode, whatever its path now leads to.
func Reopen(fd, flags int) (int, error) {
	return unix.Open("/proc/self/fd/"+strconv.Itoa(fd), flags|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
}

// ID identifies a file for as long as it exists, and (with the birth time,
// where the filesystem keeps one) beyond: a new file on a reused inode
// number is another ID.
type ID struct {
	Dev, Ino uint64
	Birth    int64
}

// Same compares identities; a missing birth time matches any.
func (a ID) Same(b ID) bool {
	return a.Dev == b.Dev && a.Ino == b.Ino && (a.Birth == 0 || b.Birth == 0 || a.Birth == b.Birth)
}

// Info is what nslua checks about a file before using it.
type Info struct {
	ID
	Mode  uint32 // the S_IFMT bits
	Nlink uint32
	Size  int64
}

// Stat describes the file fd refers to (the link itself for an O_PATH
// descriptor of a symlink).
func Stat(fd int) (Info, error) {
	var st unix.Statx_t
	err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &st)
	if err != nil {
		return Info{}, err
	}
	info := Info{
		ID:    ID{Dev: unix.Mkdev(st.Dev_major, st.Dev_minor), Ino: st.Ino},
		Mode:  uint32(st.Mode) & unix.S_IFMT,
		Nlink: st.Nlink,
		Size:  int64(st.Size),
	}
	if st.Mask&unix.STATX_BTIME != 0 {
		info.Birth = st.Btime.Sec*1e9 + int64(st.Btime.Nsec)
		if info.Birth == 0 {
			info.Birth = 1 // 0 means "unknown"
		}
	}
	return info, nil
}

// Regular and Dir tell the file's type.
func (i Info) Regular() bool { return i.Mode == unix.S_IFREG }
func (i Info) Dir() bool     { return i.Mode == unix.S_IFDIR }

// Kind names the file's type for an error message.
func (i Info) Kind() string {
	switch i.Mode {
	case unix.S_IFREG:
		return "a regular file"
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFLNK:
		return "a symlink"
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFCHR:
		return "a character device"
	case unix.S_IFBLK:
		return "a block device"
	case unix.S_IFSOCK:
		return "a socket"
	}
	return fmt.Sprintf("a file of type %#o", i.Mode)
}

// CheckFile accepts a regular file with one link, the only kind nslua
// reads, writes or binds over /etc.
func CheckFile(i Info) error {
	if !i.Regular() {
		return fmt.Errorf("is %s (refused: nslua reads, writes and binds only regular files here)", i.Kind())
	}
	if i.Nlink > 1 {
		return fmt.Errorf("has %d hard links (refused: it may be another name of a host file)", i.Nlink)
	}
	return nil
}

// Describe turns the errors of a refused walk into words.
func Describe(err error) error {
	switch {
	case errors.Is(err, unix.ELOOP):
		return errors.New("is a symlink, or one is on the way (refused: nslua does not follow symlinks under /etc/netns)")
	case errors.Is(err, unix.EXDEV):
		return errors.New("leads outside /etc/netns (refused)")
	case errors.Is(err, unix.ENOTDIR):
		return errors.New("is not a directory")
	}
	return err
}

// ReadAll reads the regular file fd (any descriptor: it is reopened), at
// most limit bytes: a file that grows without end is refused, not read
// until memory runs out.
func ReadAll(fd int, limit int64) ([]byte, error) {
	rfd, err := Reopen(fd, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(rfd), "")
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(data)) > limit {
		return nil, fmt.Errorf("is larger than %d bytes (refused)", limit)
	}
	return data, err
}

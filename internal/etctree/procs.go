package etctree

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/etcfs"
	"github.com/nslua/nslua/internal/sys"
)

// scanProcs fills OpenBy and SeenBy of the entries from the namespace's
// processes. Seen: what the process finds at the entry's /etc path, in
// its own mount namespace (/proc/PID/root), is the entry itself: it was
// bound there by `ip netns exec` or nslua (a daemon that read its
// configuration and closed it still holds it this way). Open: one of its
// descriptors is the entry. Processes that end meanwhile are left out.
func scanProcs(entries []Entry, pids []int) {
	byID := map[[2]uint64]int{}
	for i, e := range entries {
		if e.key[1] != 0 {
			byID[e.key] = i
		}
	}
	for _, pid := range pids {
		if pid == os.Getpid() {
			continue
		}
		comm := readComm(pid)
		base := sys.ProcDir + "/" + strconv.Itoa(pid)
		for i := range entries {
			e := &entries[i]
			if e.id.Ino != 0 && sameFile(base+"/root"+e.Covers, e.id) {
				e.SeenBy = append(e.SeenBy, ProcUse{PID: pid, Comm: comm})
			}
		}
		scanFds(entries, byID, pid, comm, base+"/fd")
	}
}

func scanFds(entries []Entry, byID map[[2]uint64]int, pid int, comm, dir string) {
	f, err := os.Open(dir)
	if err != nil {
		return
	}
	names, _ := f.Readdirnames(-1)
	f.Close()
	for _, n := range names {
		fdNum, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(dir+"/"+n, &st) != nil {
			continue
		}
		if i, ok := byID[[2]uint64{uint64(st.Dev), st.Ino}]; ok {
			entries[i].OpenBy = append(entries[i].OpenBy, ProcUse{PID: pid, Comm: comm, FD: fdNum})
		}
	}
}

// sameFile reports whether path (not followed at its last component) is
// the file id.
func sameFile(path string, id etcfs.ID) bool {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	info, err := etcfs.Stat(fd)
	return err == nil && info.ID.Same(id)
}

func readComm(pid int) string {
	data, _ := os.ReadFile(sys.ProcDir + "/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(data))
}

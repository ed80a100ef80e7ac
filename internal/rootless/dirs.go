// Package rootless runs nslua as a normal user: the run re-executes itself
// in a new user namespace (the user mapped to root) with its own mount, network
// and PID namespaces, and binds directories the user owns over /run/netns,
// /run/nslua, /etc/netns and /var/lib/nslua, so the engine keeps its paths.
// Kept labs leave the namespaces' first process (the holder) running; later
// commands of the same user join it with nsenter.
package rootless

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/nslua/nslua/internal/sys"
)

// Dirs are one user's rootless state: Runtime for what a reboot may lose
// (journals, pins, holder records), State for what must outlive it
// (/etc/netns files and their journal records).
type Dirs struct {
	Runtime string
	State   string
}

// UserDirs finds the directories of the calling user, making them 0700.
// Runtime is $XDG_RUNTIME_DIR/nslua, or /tmp/nslua-UID; State is
// $XDG_STATE_HOME/nslua or ~/.local/state/nslua.
func UserDirs() (Dirs, error) {
	uid := os.Getuid()
	var d Dirs
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		d.State = filepath.Join(x, "nslua")
	} else if home, err := os.UserHomeDir(); err == nil {
		d.State = filepath.Join(home, ".local", "state", "nslua")
	} else {
		return d, noDirs(uid, err)
	}
	if err := privateDir(d.State, uid); err != nil {
		return d, noDirs(uid, err) // before anything is made in /tmp
	}
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" && ownedDir(x, uid) {
		d.Runtime = filepath.Join(x, "nslua")
	} else {
		d.Runtime = fmt.Sprintf("/tmp/nslua-%d", uid)
	}
	if err := privateDir(d.Runtime, uid); err != nil {
		return d, noDirs(uid, err)
	}
	return d, nil
}

// noDirs says what a rootless run lacks, and the other way out.
func noDirs(uid int, err error) error {
	return fmt.Errorf("rootless: no state directory for uid %d: %v (set HOME or XDG_STATE_HOME to a directory of yours; "+
		"otherwise nslua must run as root: it needs CAP_SYS_ADMIN and CAP_NET_ADMIN)", uid, strings.TrimPrefix(err.Error(), "rootless: "))
}

func ownedDir(path string, uid int) bool {
	var st syscall.Stat_t
	return syscall.Lstat(path, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFDIR && int(st.Uid) == uid
}

// privateDir makes path (and its parents) and insists that the last one is a
// real directory of uid's that nobody else can write: /tmp/nslua-UID could
// otherwise be made in advance by another user.
func privateDir(path string, uid int) error {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return fmt.Errorf("rootless: %v", err)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return fmt.Errorf("rootless: %v", err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR || int(st.Uid) != uid || st.Mode&0o022 != 0 {
		return fmt.Errorf("rootless: %s is not a private directory of uid %d (owner %d, mode %o)", path, uid, st.Uid, st.Mode&0o7777)
	}
	return nil
}

// ValidKey refuses lab names that cannot be one directory name.
func ValidKey(key string) error {
	if key == "" || key == "." || key == ".." || strings.ContainsAny(key, "/\x00") {
		return fmt.Errorf("rootless: %q cannot name a lab directory", key)
	}
	return nil
}

// LabRuntime is the runtime directory of one lab (one user namespace).
func (d Dirs) LabRuntime(key string) string { return filepath.Join(d.Runtime, "labs", key) }

// LabState is the persistent directory of one lab.
func (d Dirs) LabState(key string) string { return filepath.Join(d.State, "labs", key) }

// binds lists what the inner process mounts, source in the user's
// directories, target at the engine's usual path.
func (d Dirs) binds(key string) [][2]string {
	rt, st := d.LabRuntime(key), d.LabState(key)
	return [][2]string{
		{filepath.Join(rt, "netns"), "/run/netns"},
		{filepath.Join(rt, "run"), "/run/nslua"},
		{filepath.Join(st, "etc-netns"), "/etc/netns"},
		{filepath.Join(st, "lib"), "/var/lib/nslua"},
	}
}

// Keys lists the labs that have a runtime or a state directory.
func (d Dirs) Keys() []string {
	seen := map[string]bool{}
	var keys []string
	for _, base := range []string{filepath.Join(d.Runtime, "labs"), filepath.Join(d.State, "labs")} {
		ents, _ := os.ReadDir(base)
		for _, e := range ents {
			if e.IsDir() && !seen[e.Name()] {
				seen[e.Name()] = true
				keys = append(keys, e.Name())
			}
		}
	}
	return keys
}

// Remove deletes a lab's directories once nothing runs in them.
func (d Dirs) Remove(key string) error {
	return errors.Join(os.RemoveAll(d.LabRuntime(key)), os.RemoveAll(d.LabState(key)))
}

// Holder is the outer PID of the first process of a lab's namespaces, if
// it still runs (its start time must match the record).
func (d Dirs) Holder(key string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(d.LabRuntime(key), "holder"))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, false
	}
	pid, _ := strconv.Atoi(f[0])
	start, err := startTime(pid)
	if pid <= 0 || err != nil || start != f[1] {
		return 0, false
	}
	return pid, true
}

func (d Dirs) writeHolder(key string, pid int) error {
	start, err := startTime(pid)
	if err != nil {
		return err
	}
	path := filepath.Join(d.LabRuntime(key), "holder")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d %s\n", pid, start)), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (d Dirs) removeHolder(key string) { os.Remove(filepath.Join(d.LabRuntime(key), "holder")) }

// startTime is field 22 of /proc/PID/stat, which tells a PID's reuse apart.
func startTime(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return "", fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return f[19], nil
}

// Active says whether this process runs in a user namespace that does not
// map the whole uid range, i.e. in a rootless lab.
func Active() bool { return sys.InUserNS() }

// Unmapped says whether this process is in a user namespace that maps no
// uid at all (a bare `unshare -U`): it can make no lab, not even a rootless
// one, and file ownership it sees cannot be trusted.
func Unmapped() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	return err == nil && len(strings.TrimSpace(string(b))) == 0
}

package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nslua/nslua/internal/sys"
	"golang.org/x/sys/unix"
)

// ErrBusy is returned by Lock when another live process holds the lab.
type ErrBusy struct {
	Lab string
	PID int
}

func (e *ErrBusy) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("lab %q is in use by pid %d", e.Lab, e.PID)
	}
	return fmt.Sprintf("lab %q is in use by another process", e.Lab)
}

// Lock takes the lab's lock without waiting and returns the open lock file.
func Lock(name string) (*os.File, error) {
	if err := ValidateLabName(name); err != nil {
		return nil, err
	}
	// A run that ends removes the lab's directory, lock file included,
	// while it holds the lock. Whoever opened that file just before then
	// locks a file nobody else can find any more, and a third run would
	// lock a new one: two holders. So the lock counts only if the file
	// locked is still the one at the path; else try again.
	for range 10 {
		f, err := lockOnce(name)
		if f != nil || err != nil {
			return f, err
		}
	}
	return nil, fmt.Errorf("lab %q: %s keeps being replaced", name, filepath.Join(Dir(name), "lock"))
}

// lockOnce returns nil, nil when the lock file it found was removed
// meanwhile: the run that held it has ended, so look again.
func lockOnce(name string) (*os.File, error) {
	dir := Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, sys.NeedRoot(fmt.Errorf("lab %q: create %s: %w", name, dir, err))
	}
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o644)
	if errors.Is(err, os.ErrNotExist) { // the directory went just now
		return nil, nil
	}
	if err != nil {
		return nil, sys.NeedRoot(fmt.Errorf("lab %q: %w", name, err))
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if !stillAt(f, path) {
			return nil, nil
		}
		pid, gone := holder(path)
		if gone { // the holder ended while we looked
			return nil, nil
		}
		return nil, &ErrBusy{Lab: name, PID: pid}
	}
	if !stillAt(f, path) {
		f.Close()
		return nil, nil
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

// stillAt reports whether f is the file at path.
func stillAt(f *os.File, path string) bool {
	var held, now unix.Stat_t
	return unix.Fstat(int(f.Fd()), &held) == nil && unix.Stat(path, &now) == nil &&
		held.Ino == now.Ino && held.Dev == now.Dev
}

// holder reads the PID in a held lock file. The holder writes it just
// after taking the lock, so an empty file is looked at again for up to a
// second (a loaded machine can keep the holder from running that long).
// gone: the file was removed meanwhile (the holder's run ended), so the
// lab may be free now.
func holder(path string) (pid int, gone bool) {
	for range 200 {
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return 0, true
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			return pid, false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, false
}

// Holder reports the PID of the process that holds lab name's lock, without
// taking the lock itself (so that looking never gets in a run's way): it
// reads /proc/locks for a flock on the lock file.
func Holder(name string) (pid int, held bool) {
	var st unix.Stat_t
	if unix.Stat(filepath.Join(Dir(name), "lock"), &st) != nil {
		return 0, false
	}
	id := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	data, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		// "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; blocked
		// waiters have a "->" field and hold nothing.
		if len(f) >= 6 && f[1] == "FLOCK" && f[5] == id {
			pid, _ = strconv.Atoi(f[4])
			return pid, true
		}
	}
	return 0, false
}

package nsfs

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"

	"github.com/nslua/nslua/internal/sys"
	"golang.org/x/sys/unix"
)

var (
	runDirOnce sync.Once
	runDirFd   int
	runDirErr  error
)

// openRunDir makes RunDir exist and be a shared mount, as `ip netns add`
// does, so that pins made later propagate into every mount namespace that
// was cloned from this one (an `ip netns exec` child sees them, for one).
func openRunDir() (int, error) {
	runDirOnce.Do(func() {
		if err := os.MkdirAll(RunDir, 0o755); err != nil {
			runDirErr = fmt.Errorf("create %s: %w", RunDir, err)
			return
		}
		fd, err := unix.Open(RunDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			runDirErr = fmt.Errorf("open %s: %w", RunDir, err)
			return
		}
		if err := withFlock(fd, makeShared); err != nil {
			unix.Close(fd)
			runDirErr = err
			return
		}
		runDirFd = fd
	})
	return runDirFd, runDirErr
}

func makeShared() error {
	err := unix.Mount("", RunDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("make %s a shared mount: %w", RunDir, err)
	}
	// EINVAL: not a mount point yet. Bind it onto itself, then retry.
	if err := unix.Mount(RunDir, RunDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s onto itself: %w", RunDir, err)
	}
	if err := unix.Mount("", RunDir, "none", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make %s a shared mount: %w", RunDir, err)
	}
	return nil
}

func withFlock(fd int, fn func() error) error {
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", RunDir, err)
	}
	defer unix.Flock(fd, unix.LOCK_UN)
	return fn()
}

// AddHooks lets a caller act at the two moments that matter for recovery.
type AddHooks struct {
	// Before runs under the /run/netns lock once the name is known to be
	// free, before anything is created: the place to journal the intent.
	Before func() error
	// Inside runs on the creating thread, inside the new namespace, before
	// it is pinned: sockets opened here belong to the new namespace.
	Inside func() error
}

// Add creates a network namespace and pins it at RunDir/name exactly as
// `ip netns add name` does. It returns the namespace's inode.
func Add(name string, hooks AddHooks) (uint64, error) {
	if err := ValidateName(name); err != nil {
		return 0, err
	}
	dirFd, err := openRunDir()
	if err != nil {
		return 0, sys.NeedRoot(err)
	}
	var inode uint64
	err = withFlock(dirFd, func() error {
		path := PinPath(name)
		if _, err := os.Lstat(path); err == nil {
			return existsErr(path)
		}
		if hooks.Before != nil {
			if err := hooks.Before(); err != nil {
				return err
			}
		}
		if err := createPinFile(path); err != nil {
			return err
		}
		inode, err = unshareAndPin(path, hooks.Inside)
		if err != nil {
			unix.Unlink(path)
		}
		return err
	})
	return inode, sys.NeedRoot(err)
}

func createPinFile(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.EEXIST) {
		return existsErr(path)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return unix.Close(fd)
}

// unshareAndPin runs on a throw-away locked thread: after unshare the thread
// is in the new namespace for good, and dies with its goroutine.
func unshareAndPin(path string, inside func() error) (uint64, error) {
	type result struct {
		inode uint64
		err   error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("unshare: %w", err)}
			return
		}
		if inside != nil {
			if err := inside(); err != nil {
				done <- result{err: err}
				return
			}
		}
		self := "/proc/thread-self/ns/net"
		if err := unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
			done <- result{err: fmt.Errorf("bind %s to %s: %w", self, path, err)}
			return
		}
		inode, err := Inode(path)
		done <- result{inode, err}
	}()
	r := <-done
	return r.inode, r.err
}

// TargetPath turns what `ip netns attach` accepts into an nsfs path: a PID
// (as decimal text) becomes /proc/PID/ns/net; anything else is a path.
func TargetPath(target string) (string, error) {
	pid, err := strconv.Atoi(target)
	if err != nil {
		return target, nil
	}
	if pid <= 0 {
		return "", fmt.Errorf("PID %d is not a process", pid)
	}
	path := fmt.Sprintf("/proc/%d/ns/net", pid)
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		return "", fmt.Errorf("no process with PID %d", pid)
	}
	return path, nil
}

// Attach pins the network namespace at target (an nsfs path such as
// /proc/PID/ns/net or another pin) as name, like `ip netns attach`.
func Attach(name, target string, before func() error) (uint64, error) {
	if err := ValidateName(name); err != nil {
		return 0, err
	}
	inode, err := CheckNetns(target)
	if err != nil {
		return 0, err
	}
	dirFd, err := openRunDir()
	if err != nil {
		return 0, sys.NeedRoot(err)
	}
	err = withFlock(dirFd, func() error {
		path := PinPath(name)
		if _, err := os.Lstat(path); err == nil {
			return existsErr(path)
		}
		if before != nil {
			if err := before(); err != nil {
				return err
			}
		}
		if err := createPinFile(path); err != nil {
			return err
		}
		if err := unix.Mount(target, path, "none", unix.MS_BIND, ""); err != nil {
			unix.Unlink(path)
			return fmt.Errorf("bind %s to %s: %w", target, path, err)
		}
		return nil
	})
	return inode, sys.NeedRoot(err)
}

// Unpin removes the pin of name, like `ip netns del`: lazy unmount, unlink.
// The namespace itself lives on while processes or open files hold it.
// A pin that is already gone is not an error.
func Unpin(name string) error {
	path := PinPath(name)
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	if err := unix.Unlink(path); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// Open checks that name is pinned and is a network namespace.
func Open(name string) (uint64, error) {
	if err := ValidateName(name); err != nil {
		return 0, err
	}
	path := PinPath(name)
	if _, err := os.Lstat(path); err != nil {
		return 0, &kindError{fmt.Sprintf("no namespace %q (%s does not exist)", name, path), ErrNotFound}
	}
	return CheckNetns(path)
}

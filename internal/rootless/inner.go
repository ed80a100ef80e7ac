package rootless

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// inner is what the inner process knows of its run, once Setup ran.
var inner struct {
	key  string
	pipe *os.File
}

// Setup runs first in the inner process (the environment says so): it
// makes the mount namespace private, mounts /proc for the new PID namespace,
// binds the lab's directories over the engine's paths and brings lo up in
// the lab's own "host" namespace. It returns false outside an inner process.
func Setup() (bool, error) {
	key, ok := os.LookupEnv(envKey)
	if !ok {
		return false, nil
	}
	d := Dirs{Runtime: os.Getenv(envRuntime), State: os.Getenv(envState)}
	if fd, err := strconv.Atoi(os.Getenv(envPipe)); err == nil {
		inner.pipe = os.NewFile(uintptr(fd), "rootless-pipe")
		syscall.CloseOnExec(fd)
	}
	for _, e := range []string{envKey, envRuntime, envState, envPipe} {
		os.Unsetenv(e)
	}
	inner.key = key
	if os.Getpid() != 1 {
		return true, fmt.Errorf("rootless: %s is set but this is not a new PID namespace", envKey)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return true, fmt.Errorf("rootless: make / a slave: %v", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return true, fmt.Errorf("rootless: mount /proc: %v", err)
	}
	_ = unix.Mount("sysfs", "/sys", "sysfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	for _, b := range d.binds(key) {
		if _, err := os.Stat(b[1]); err != nil {
			return true, fmt.Errorf("rootless: %s does not exist on this host and only root can make it: run `sudo mkdir -p %s` once", b[1], b[1])
		}
		if err := unix.Mount(b[0], b[1], "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return true, fmt.Errorf("rootless: bind %s over %s: %v", b[0], b[1], err)
		}
	}
	if lo, err := netlink.LinkByName("lo"); err == nil {
		_ = netlink.LinkSetUp(lo)
	}
	return true, nil
}

// Keeping says the run ends with its lab kept: the outer process records
// this process as the lab's holder and exits with code; this one stays,
// reaping orphans, until `nslua down` (or any SIGTERM, SIGINT or SIGHUP)
// ends it, and the kernel kills what still runs in the namespaces.
func Keeping(code int) {
	if inner.pipe == nil {
		return
	}
	_ = unix.Prctl(unix.PR_SET_PDEATHSIG, 0, 0, 0, 0)
	if null, err := os.OpenFile("/dev/null", os.O_RDWR, 0); err == nil {
		for fd := 0; fd <= 2; fd++ {
			_ = unix.Dup2(int(null.Fd()), fd)
		}
	}
	fmt.Fprintf(inner.pipe, "keep %d\n", code)
	inner.pipe.Close()
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			if pid, _ := syscall.Wait4(-1, nil, syscall.WNOHANG, nil); pid <= 0 {
				break
			}
		}
	}
}

// Key is the lab key of the inner process ("" elsewhere).
func Key() string { return inner.key }

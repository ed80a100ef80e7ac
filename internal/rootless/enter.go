package rootless

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// Environment between the outer process and the inner one.
const (
	envKey     = "NSLUA_ROOTLESS_LAB"
	envRuntime = "NSLUA_ROOTLESS_RUNTIME"
	envState   = "NSLUA_ROOTLESS_STATE"
	envPipe    = "NSLUA_ROOTLESS_PIPE"
)

// Enter runs this binary again with args in new user, mount, network and
// PID namespaces for lab key and returns its exit status. Signals to this
// process go to the inner one; if this one dies, the kernel kills the inner
// one and with it every process of the lab (it is PID 1 there). A kept lab's
// inner process says "keep" on the pipe and stays as the holder.
func Enter(d Dirs, key string, args []string) (int, error) {
	if err := ValidKey(key); err != nil {
		return 1, err
	}
	for _, b := range d.binds(key) {
		if err := privateDir(b[0], os.Getuid()); err != nil {
			return 1, err
		}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return 1, err
	}
	defer pr.Close()
	runtime.LockOSThread() // Pdeathsig follows the thread that forks
	defer runtime.UnlockOSThread()
	cmd := innerCommand(d, key, args, pw)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return 1, fmt.Errorf("rootless: cannot make a user namespace: %v (is user.max_user_namespaces 0, or an AppArmor/SELinux rule in the way? "+
			"otherwise nslua must run as root: it needs CAP_SYS_ADMIN and CAP_NET_ADMIN)", err)
	}
	_ = d.writeHolder(key, cmd.Process.Pid)
	kept := make(chan int, 1)
	go readKeep(pr, kept)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case code := <-kept:
			_ = os.WriteFile(filepath.Join(d.LabRuntime(key), "kept"), nil, 0o600)
			return code, nil // the holder lives on; its record stays
		case err := <-done:
			d.removeHolder(key)
			d.removeEmpty(key)
			return exitCode(cmd, err), nil
		}
	}
}

func innerCommand(d Dirs, key string, args []string, pw *os.File) *exec.Cmd {
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{pw}
	cmd.Env = append(os.Environ(), envKey+"="+key, envRuntime+"="+d.Runtime, envState+"="+d.State, envPipe+"=3")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET | syscall.CLONE_NEWPID,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
		Pdeathsig:                  syscall.SIGKILL,
		Setsid:                     true, // a terminal's Ctrl-C reaches us only, and we pass it on once
	}
	return cmd
}

func readKeep(pr *os.File, kept chan<- int) {
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		return
	}
	if f := strings.Fields(line); len(f) == 2 && f[0] == "keep" {
		code, _ := strconv.Atoi(f[1])
		kept <- code
	}
}

func exitCode(cmd *exec.Cmd, err error) int {
	if err == nil {
		return 0
	}
	if cmd.ProcessState == nil {
		return 1
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return cmd.ProcessState.ExitCode()
}

// Kept says whether the lab's run ended with --keep (its holder waits for
// `nslua down`) rather than still running.
func (d Dirs) Kept(key string) bool {
	_, err := os.Stat(filepath.Join(d.LabRuntime(key), "kept"))
	return err == nil
}

// removeEmpty removes a lab's directories when its run left nothing in
// them (a clean teardown); anything left stays for `nslua down`.
func (d Dirs) removeEmpty(key string) {
	for _, b := range d.binds(key) {
		os.Remove(b[0])
	}
	os.Remove(filepath.Join(d.LabRuntime(key), "kept"))
	os.Remove(d.LabRuntime(key))
	os.Remove(d.LabState(key))
	os.Remove(filepath.Join(d.Runtime, "labs"))
	os.Remove(filepath.Join(d.State, "labs"))
}

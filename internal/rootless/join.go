package rootless

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Join runs this binary with args inside the namespaces of the holder pid
// (user, mount, network, PID), through util-linux's nsenter: a Go process
// cannot setns(2) into a user namespace, being multi-threaded.
func Join(pid int, args []string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	wd, _ := os.Getwd()
	nsArgs := []string{"-t", strconv.Itoa(pid), "-U", "-m", "-n", "-p", "--preserve-credentials"}
	if wd != "" {
		nsArgs = append(nsArgs, "--wd="+wd)
	}
	cmd := exec.Command("nsenter", append(append(nsArgs, "--", exe), args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd
}

// Live lists the labs whose holder runs, by key.
func (d Dirs) Live() map[string]int {
	live := map[string]int{}
	for _, k := range d.Keys() {
		if pid, ok := d.Holder(k); ok {
			live[k] = pid
		}
	}
	return live
}

// Find names the live lab that a command's argument means: a lab of that
// name, or the lab holding a namespace of that name. With name "", the
// only live lab.
func (d Dirs) Find(name string) (string, int, error) {
	live := d.Live()
	if name == "" {
		keys := sortedKeys(live)
		switch len(keys) {
		case 0:
			return "", 0, fmt.Errorf("no rootless lab of uid %d is up", os.Getuid())
		case 1:
			return keys[0], live[keys[0]], nil
		}
		return "", 0, fmt.Errorf("several rootless labs are up (%s): name one", strings.Join(keys, ", "))
	}
	if pid, ok := live[name]; ok {
		return name, pid, nil
	}
	for _, k := range sortedKeys(live) {
		if _, err := os.Lstat(filepath.Join(d.LabRuntime(k), "netns", name)); err == nil {
			return k, live[k], nil
		}
	}
	return "", 0, fmt.Errorf("%q: no such namespace or lab among the rootless labs of uid %d", name, os.Getuid())
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

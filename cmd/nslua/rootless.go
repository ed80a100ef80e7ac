package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/nslua/nslua/internal/rootless"
)

// rootlessRun handles a command line in rootless mode (a normal user, or
// --rootless): commands that run a lab enter a new user namespace, those
// that look at labs join the user's holders. handled is false when the
// normal path should run: as root, inside the namespaces, or for commands
// that need no privileges.
func rootlessRun(args []string) (code int, handled bool) {
	if inner, err := rootless.Setup(); inner {
		if err != nil {
			fmt.Fprintf(os.Stderr, "nslua: %v\n", err)
			return 1, true
		}
		return 0, false
	}
	forced := len(args) > 0 && args[0] == "--rootless"
	if forced {
		args = args[1:]
	}
	if !forced && (os.Geteuid() == 0 || rootless.Active() || rootless.Unmapped()) {
		return 0, false
	}
	if len(args) > 0 {
		switch args[0] {
		case "version", "--version", "help", "-h", "--help", "types":
			return runPlain(args), true
		}
	}
	d, err := rootless.UserDirs()
	if err != nil {
		fmt.Fprintf(os.Stderr, "nslua: %v\n", err)
		return 1, true
	}
	return rootlessDispatch(d, args), true
}

func rootlessDispatch(d rootless.Dirs, args []string) int {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "ls":
		return rootlessLs(d, args[1:])
	case "down":
		return rootlessDown(d, args[1:])
	case "serve":
		fmt.Fprintln(os.Stderr, "nslua: serve: not available for a rootless lab yet: its listening socket would be in the lab's own network namespace, out of the browser's reach")
		return 1
	case "exec", "inspect", "graph", "export", "shape":
		return rootlessJoin(d, args)
	case "test":
		return rootlessEnter(d, fmt.Sprintf("test-%d", os.Getpid()), args)
	}
	o, err := parseRunArgs(args)
	if err != nil {
		return runPlain(args) // prints the usage error
	}
	return rootlessEnter(d, o.lab, args)
}

func rootlessEnter(d rootless.Dirs, key string, args []string) int {
	code, err := rootless.Enter(d, key, args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "nslua: %v\n", err)
	}
	return code
}

// rootlessJoin runs a command that names a namespace or a lab (its first
// argument that is not an option) inside the lab's holder.
func rootlessJoin(d rootless.Dirs, args []string) int {
	name := ""
	for _, a := range args[1:] {
		if a == "--" {
			continue
		}
		if !strings.HasPrefix(a, "-") {
			name = a
			break
		}
	}
	_, pid, err := d.Find(name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "nslua: %s: %v\n", args[0], err)
		return 1
	}
	return waitCode(rootless.Join(pid, args).Run())
}

func waitCode(err error) int {
	if err == nil {
		return 0
	}
	if e, ok := err.(interface{ ExitCode() int }); ok && e.ExitCode() >= 0 {
		return e.ExitCode()
	}
	fmt.Fprintf(os.Stderr, "nslua: %v\n", err)
	return 1
}

// rootlessLs lists the user's labs: those with a holder from inside it,
// the others (a run killed with -9) as dead until `nslua down`.
func rootlessLs(d rootless.Dirs, args []string) int {
	asJSON, err := parseLsArgs(args)
	if err != nil {
		return runPlain(append([]string{"ls"}, args...))
	}
	var labs []labSummary
	var free []string
	live := d.Live()
	for _, key := range d.Keys() {
		pid, ok := live[key]
		if !ok {
			labs = append(labs, labSummary{Name: key, State: "dead", Namespaces: []string{}})
			continue
		}
		var out bytes.Buffer
		c := rootless.Join(pid, []string{"ls", "--json"})
		c.Stdout = &out
		if err := c.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "nslua: ls: lab %s (pid %d): %v\n", key, pid, err)
			continue
		}
		var got struct {
			Labs       []labSummary `json:"labs"`
			Namespaces []string     `json:"namespaces"`
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			fmt.Fprintf(os.Stderr, "nslua: ls: lab %s: %v\n", key, err)
			continue
		}
		for _, s := range got.Labs {
			s.PID = pid // the holder, as this user's tools see it
			labs = append(labs, s)
		}
		free = append(free, got.Namespaces...)
	}
	if err := printLs(labs, free, asJSON); err != nil {
		return 1
	}
	return 0
}

// rootlessDown takes kept labs down inside their holder, then ends the
// holder (the kernel removes what the namespaces still held); a lab without
// a holder is undone from its journal in a fresh namespace. Its directories
// go last.
func rootlessDown(d rootless.Dirs, args []string) int {
	names, all, verbose, err := parseDownArgs(args)
	if err != nil {
		return runPlain(append([]string{"down"}, args...))
	}
	if all {
		names = d.Keys()
		if len(names) == 0 {
			fmt.Println("no labs")
		}
	}
	code := 0
	for _, name := range names {
		if err := rootlessDownOne(d, name, all, verbose); err != nil {
			fmt.Fprintf(os.Stderr, "nslua: down %s: %v\n", name, err)
			code = 1
		}
	}
	return code
}

func rootlessDownOne(d rootless.Dirs, name string, all, verbose bool) error {
	if err := rootless.ValidKey(name); err != nil {
		return err
	}
	downArgs := []string{"down", name}
	if verbose {
		downArgs = append(downArgs, "-v")
	}
	pid, live := d.Holder(name)
	switch {
	case live && !d.Kept(name):
		if all {
			fmt.Printf("lab %s: running (pid %d), left alone; it tears itself down when it ends\n", name, pid)
			return nil
		}
		return fmt.Errorf("running (pid %d): it tears itself down when it ends", pid)
	case live:
		if code := waitCode(rootless.Join(pid, downArgs).Run()); code != 0 {
			return fmt.Errorf("the undo inside the lab failed (exit status %d); the holder (pid %d) stays", code, pid)
		}
		if err := endHolder(pid); err != nil {
			return err
		}
	default:
		if _, err := os.Stat(d.LabRuntime(name)); err != nil {
			if _, err := os.Stat(d.LabState(name)); err != nil {
				return fmt.Errorf("no such lab among the rootless labs of uid %d", os.Getuid())
			}
		}
		if code, err := rootless.Enter(d, name, downArgs); err != nil || code != 0 {
			return fmt.Errorf("the undo from the journal failed (exit status %d, %v)", code, err)
		}
	}
	return d.Remove(name)
}

// endHolder kills the holder, PID 1 of the lab's namespaces, and waits
// until it is gone (it is not our child: poll its /proc entry).
func endHolder(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("end the holder (pid %d): %v", pid, err)
	}
	for i := 0; i < 500; i++ {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err != nil || bytes.Contains(b, []byte(") Z ")) {
			return nil // gone, or a zombie that its new parent has yet to reap
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("the holder (pid %d) did not end", pid)
}

// modeLine says how runs of this user work, for `nslua version`.
func modeLine() string {
	switch {
	case rootless.Active():
		return "mode: rootless (inside a user namespace)"
	case os.Geteuid() != 0:
		return fmt.Sprintf("mode: rootless (uid %d: each run in its own user namespace)", os.Geteuid())
	}
	return "mode: root (--rootless forces a user namespace)"
}

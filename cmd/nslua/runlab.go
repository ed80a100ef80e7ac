package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/nslua/nslua/internal/repl"
	"github.com/nslua/nslua/internal/rootless"
	"github.com/nslua/nslua/luabind"
)

type runOpts struct {
	script      string
	code        string // -e
	hasCode     bool
	interactive bool // -i, or no script at all
	keep        bool
	lab         string
	labSet      bool   // --lab was given
	sshConfig   string // --ssh-config
	hostsFile   string // --hosts
	args        []string

	// Set by `nslua test` for the child that runs one test file.
	testRun        string // the test to run
	testList       bool   // list the file's tests instead
	testPrefix     string // put before namespace names
	testKeepFailed bool
}

func parseRunArgs(args []string) (*runOpts, error) {
	o := &runOpts{}
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "--keep":
			o.keep = true
		case a == "-i":
			o.interactive = true
		case a == "-e" || a == "--lab" || a == "--ssh-config" || a == "--hosts":
			if len(args) < 2 {
				return nil, usageErr("%s needs an argument", a)
			}
			o.setValue(a, args[1])
			args = args[1:]
		case strings.HasPrefix(a, "--lab="):
			o.lab, o.labSet = strings.TrimPrefix(a, "--lab="), true
		case strings.HasPrefix(a, "--test-run="):
			o.testRun = strings.TrimPrefix(a, "--test-run=")
		case strings.HasPrefix(a, "--test-prefix="):
			o.testPrefix = strings.TrimPrefix(a, "--test-prefix=")
		case a == "--test-list":
			o.testList = true
		case a == "--test-keep-failed":
			o.testKeepFailed = true
		case a == "--":
			args = args[1:]
			goto positional
		case strings.HasPrefix(a, "-") && a != "-":
			return nil, usageErr("unknown option %s", a)
		default:
			goto positional
		}
		args = args[1:]
	}
positional:
	if len(args) > 0 && !o.hasCode {
		o.script, o.args = args[0], args[1:]
	} else if len(args) > 0 {
		o.args = args
	}
	if o.interactive && o.script == "" && !o.hasCode {
		return nil, usageErr("-i needs a script")
	}
	if o.script == "" && !o.hasCode {
		o.interactive = true
	}
	if o.labSet && o.lab == "" {
		return nil, usageErr("--lab needs a name, not an empty string")
	}
	if o.lab == "" {
		o.lab = defaultLabName(o)
	}
	return o, nil
}

// setValue sets the option a that takes the value v.
func (o *runOpts) setValue(a, v string) {
	switch a {
	case "-e":
		o.code, o.hasCode = v, true
	case "--lab":
		o.lab, o.labSet = v, true
	case "--ssh-config":
		o.sshConfig = v
	case "--hosts":
		o.hostsFile = v
	}
}

func defaultLabName(o *runOpts) string {
	switch {
	case rootless.Key() != "":
		return rootless.Key() // the outer process named it, with its own PID

	case o.script != "":
		return strings.TrimSuffix(filepath.Base(o.script), ".lua")
	case o.hasCode:
		return fmt.Sprintf("e-%d", os.Getpid())
	}
	return fmt.Sprintf("repl-%d", os.Getpid())
}

// runLab runs a script, a chunk or the REPL in a lab through luabind.Run
// and returns the run's exit status.
func runLab(o *runOpts) error {
	limit, err := memoryLimit()
	if err != nil {
		return usageErr("%v", err)
	}
	scriptDir, _ := os.Getwd()
	if o.script != "" {
		scriptDir = filepath.Dir(o.script)
		if _, err := os.Stat(o.script); err != nil {
			return &exitError{code: 1, msg: fmt.Sprintf("%s: %v", o.script, errors.Unwrap(err))}
		}
	}
	r, err := luabind.StartRun(luabind.RunOptions{
		Lab: o.lab, Script: o.script, ScriptDir: scriptDir, Keep: o.keep,
		Signals: true, Reaper: true, MemoryLimit: limit, SSHConfig: o.sshConfig, HostsFile: o.hostsFile,
	})
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	r.RT.NamePrefix = o.testPrefix
	switch {
	case o.hasCode:
		r.SetArgs("-e", o.args)
		err = r.DoString(o.code, "-e", o.args)
	case o.script != "" && o.interactive && o.testRun == "" && !o.testList:
		r.SetArgs(o.script, o.args)
		var note string
		note, err = r.DoFileKeepLocals(o.script, o.args)
		if note != "" {
			fmt.Fprintf(os.Stderr, "nslua: -i: %s\n", note)
		}
	case o.script != "":
		r.SetArgs(o.script, o.args)
		err = r.DoFile(o.script, o.args)
	default:
		r.SetArgs("", o.args)
	}
	if o.testRun != "" || o.testList {
		runTestChild(r, o, err)
		err = nil
	}
	if err == nil && o.interactive && r.Stopped() == nil {
		err = r.REPL(replConfig(r))
	}
	code := r.Finish(err)
	if r.Lab.Kept() {
		rootless.Keeping(code) // a rootless lab's namespaces stay with this process
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

func replConfig(r *luabind.Run) repl.Config {
	interactive := term.IsTerminal(int(os.Stdin.Fd()))
	banner := ""
	if interactive {
		banner = fmt.Sprintf("nslua %s, lab %q. help() lists the API; Ctrl-D leaves and tears down.", version, r.Lab.Name)
		if r.Script() != "" {
			banner += "\nThe script's top-level locals are globals here."
		}
	}
	return repl.Config{Interactive: interactive, Banner: banner}
}

// memoryLimit is NSLUA_MEMORY_LIMIT, or the default.
func memoryLimit() (int64, error) {
	v, ok := os.LookupEnv("NSLUA_MEMORY_LIMIT")
	if !ok || v == "" {
		return luabind.DefaultMemoryLimit(), nil
	}
	n, err := luabind.ParseSize(v)
	if err != nil {
		return 0, fmt.Errorf("NSLUA_MEMORY_LIMIT: %v", err)
	}
	return n, nil
}

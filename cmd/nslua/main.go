// Command nslua runs Lua lab scripts that build network-namespace
// topologies, and tears down what they built. See README.md.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/luabind"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `usage:
  nslua --rootless ...                              any command in a user namespace (the default for a normal user)
  nslua [--keep] [--lab NAME] SCRIPT.lua [ARGS...]   run a lab script
        [--ssh-config PATH] [--hosts FILE]             (its other hosts: see ns.hosts)
  nslua [--keep] [--lab NAME] -e 'CODE'              run a chunk of Lua
  nslua [--keep] [--lab NAME] -i SCRIPT.lua [ARGS...] run it, then open the REPL
  nslua                                             the REPL
  nslua exec NAME -- CMD [ARGS...]                  run CMD in namespace NAME (as ip netns exec)
  nslua inspect [NAME...] [--json]                  what namespaces hold now
  nslua capture NS:LINK... [-w FILE|-] [-f FILTER] [-c N] [--duration D]
                                                    packets of several links into one pcapng
  nslua graph [LAB] [--format dot|mermaid|svg|png|html] [-o FILE]
                                                    the live topology as text or a picture
  nslua serve [LAB] [--listen 127.0.0.1:PORT] [--allow-remote]
                                                    a live web page of it (read-only)
  nslua types [-o FILE]                             LuaLS type definitions of the API
  nslua export [LAB | NAME...] [-o FILE]            a Lua script that rebuilds them as they are now
  nslua etc NAME [--json]                           what a program in NAME sees in /etc (its /etc/netns entries)
  nslua etc NAME copy PATH... [--follow] [--force] [--create-host-target]
                                                    copy the host's /etc/PATH into /etc/netns/NAME
  nslua etc NAME edit PATH | diff [PATH...] | rm PATH...
                                                    edit, compare with the host's, remove
  nslua test [PATH...] [--run RE] [-j N] [--junit F] [--tap] [--keep-failed] [-v] [--timeout S]
                                                    run the *_test.lua files' tests, each in its own lab
  nslua ls [--json]                                 labs that are up, and pinned namespaces
  nslua down [-v] LAB... | --all                   remove kept or crashed labs
  nslua shape NS LINK [key=value...] | off          shape a link (rate=10mbit delay=20ms loss=1%...)
  nslua agent LAB                                   a host's part of a multi-host lab, driven over stdin/stdout (ssh)
  nslua version
`

// exitError carries an exit status up to main.
type exitError struct {
	code int
	msg  string // printed as "nslua: msg" unless empty
}

func (e *exitError) Error() string { return e.msg }

func usageErr(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...) + "\n" + usage}
}

func main() {
	luabind.Version = version
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if code, handled := rootlessRun(args); handled {
		return code
	}
	if len(args) > 0 && args[0] == "--rootless" {
		args = args[1:] // inside the namespaces already
	}
	return runPlain(args)
}

// runPlain runs a command line in this process, without the rootless step.
func runPlain(args []string) int {
	err := dispatch(args)
	if err == nil {
		return 0
	}
	if e, ok := err.(*exitError); ok {
		if e.msg != "" {
			fmt.Fprintf(os.Stderr, "nslua: %s\n", strings.TrimRight(e.msg, "\n"))
		}
		return e.code
	}
	fmt.Fprintf(os.Stderr, "nslua: %v\n", err)
	return 1
}

func dispatch(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "exec":
			return cmdExec(args[1:])
		case "capture":
			return cmdCapture(args[1:])
		case "inspect":
			return cmdInspect(args[1:])
		case "graph":
			return cmdGraph(args[1:])
		case "serve":
			return cmdServe(args[1:])
		case "types":
			return cmdTypes(args[1:])
		case "ls":
			return cmdLs(args[1:])
		case "export":
			return cmdExport(args[1:])
		case "etc":
			return cmdEtc(args[1:])
		case "test":
			return cmdTest(args[1:])
		case "down":
			return cmdDown(args[1:])
		case "agent":
			return cmdAgent(args[1:])
		case "shape":
			return cmdShape(args[1:])
		case "version", "--version":
			return cmdVersion(args[1:])
		case "help", "-h", "--help":
			fmt.Print(usage)
			return nil
		}
	}
	opts, err := parseRunArgs(args)
	if err != nil {
		return err
	}
	return runLab(opts)
}

func cmdVersion(args []string) error {
	if err := parseNoArgs("version", args); err != nil {
		return err
	}
	fmt.Printf("nslua %s\n%s\ngopher-lua %s (%s)\n%s\n", version, runtime.Version(), moduleVersion("github.com/yuin/gopher-lua"), lua.LuaVersion, modeLine())
	return nil
}

func moduleVersion(path string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == path {
				return dep.Version
			}
		}
	}
	return "unknown"
}

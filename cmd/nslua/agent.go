package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/remote"
	"github.com/nslua/nslua/luabind"
)

// cmdAgent is `nslua agent LAB`: the part of a multi-host lab on this
// host, driven by the controller over stdin and stdout (ssh's), with its
// own journal here. When stdin ends it tears its part down and reports.
// `nslua agent --build` prints the version and build a controller looks
// for before it starts one.
func cmdAgent(args []string) error {
	if len(args) == 1 && args[0] == "--build" {
		build, err := remote.Build()
		if err != nil {
			return err
		}
		fmt.Println(version, build)
		return nil
	}
	if len(args) != 1 || len(args[0]) == 0 || args[0][0] == '-' {
		return usageErr("agent needs one lab name")
	}
	out, err := protocolOut()
	if err != nil {
		return err
	}
	limit, err := memoryLimit()
	if err != nil {
		return usageErr("%v", err)
	}
	r, err := luabind.StartRun(luabind.RunOptions{Lab: args[0], Signals: true, Reaper: true,
		MemoryLimit: limit, Out: os.Stderr, Log: os.Stderr})
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	err = luabind.ServeAgent(r, os.Stdin, out)
	code := r.Finish(err)
	luabind.SendBye(out, code)
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// protocolOut keeps stdout for the protocol alone: it returns a copy of
// it and points descriptor 1 at stderr, so that print() in Lua and what
// the run's programs write never mix into the controller's messages.
func protocolOut() (*os.File, error) {
	fd, err := unix.FcntlInt(1, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, fmt.Errorf("agent: keep stdout: %w", err)
	}
	if err := unix.Dup2(2, 1); err != nil {
		return nil, fmt.Errorf("agent: point stdout at stderr: %w", err)
	}
	return os.NewFile(uintptr(fd), "protocol"), nil
}

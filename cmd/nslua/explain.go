package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nslua/nslua/internal/inspect"
	"github.com/nslua/nslua/internal/nsfs"
)

// explainPin says what a pin path is, for the user who found
// /run/netns/NAME to be an "empty, unreadable file": it is an nsfs bind
// mount that only keeps a namespace alive. It returns the name to inspect
// the namespace under, or an error when the path holds none.
func explainPin(path string) (string, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return "", fmt.Errorf("inspect %s: %w", path, err)
	}
	name := path
	if filepath.Dir(path) == nsfs.RunDir {
		name = filepath.Base(path)
	}
	ino, nsErr := nsfs.CheckNetns(path)
	switch {
	case nsErr == nil && strings.HasPrefix(path, "/proc/"):
		fmt.Printf("%s: the network namespace net:[%d] of a process (a link into nsfs, not a file)\n", path, ino)
		return name, nil
	case nsErr == nil:
		fmt.Printf("%s: a bind mount of network namespace net:[%d] (an nsfs file: it has no content to read;\n"+
			"  it keeps the namespace alive while no process is in it; `ip netns del` or `nslua down` unmounts it)\n", path, ino)
		if owner := ownerOpts().Owner(ino); owner != "" {
			fmt.Printf("  made by nslua lab %s\n", owner)
		}
		return name, nil
	case st.Mode().IsRegular() && st.Size() == 0:
		return "", fmt.Errorf("inspect %s: an empty file, not a namespace: an interrupted `ip netns add` (or the pin's mount was removed) left it; "+
			"`ip netns del %s` removes it", path, filepath.Base(path))
	}
	return "", fmt.Errorf("inspect %s: %v", path, nsErr)
}

func isPath(arg string) bool { return strings.Contains(arg, "/") }

// inspectPath explains the path and inspects what it pins.
func inspectPath(path string, opts inspect.Options) (*inspect.Info, error) {
	name, err := explainPin(path)
	if err != nil {
		return nil, err
	}
	return inspect.Namespace(name, path, opts)
}

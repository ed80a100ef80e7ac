// Package scripts holds nslua's built-in Lua libraries (require("nslua.X")
// loads X.lua) and the files they ship (ns.libfile), built into the binary.
package scripts

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed *
var files embed.FS

// Module returns the source of built-in module name ("nslua.topo").
func Module(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "nslua.")
	if !ok || strings.ContainsAny(rest, "/\\") {
		return "", false
	}
	data, err := files.ReadFile(strings.ReplaceAll(rest, ".", "/") + ".lua")
	if err != nil {
		return "", false
	}
	return string(data), true
}

// Modules lists the built-in module names.
func Modules() []string {
	var names []string
	fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".lua") {
			names = append(names, "nslua."+strings.ReplaceAll(strings.TrimSuffix(path, ".lua"), "/", "."))
		}
		return nil
	})
	return names
}

// Asset returns a file shipped with the libraries (a DHCP client script).
func Asset(name string) (string, error) {
	if strings.HasSuffix(name, ".go") || strings.Contains(name, "..") {
		return "", fmt.Errorf("no library file %q", name)
	}
	data, err := files.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("no library file %q", name)
	}
	return string(data), nil
}

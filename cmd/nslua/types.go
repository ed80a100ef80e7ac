package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/nslua/nslua/luabind"
)

// cmdTypes writes the LuaLS definition file of the API (see README:
// editors), to stdout or -o FILE.
func cmdTypes(args []string) error {
	out := ""
	switch {
	case len(args) == 0:
	case len(args) == 2 && args[0] == "-o":
		out = args[1]
	default:
		return usageErr("types takes only -o FILE")
	}
	var buf bytes.Buffer
	if err := luabind.WriteLuaLS(&buf); err != nil {
		return &exitError{code: 1, msg: "types: " + err.Error()}
	}
	if out == "" {
		_, err := os.Stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("types: %v", err)}
	}
	return nil
}

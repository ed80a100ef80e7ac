package repl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// ErrorMessage is nslua's one rendering of a Lua error, for the runner
// (which puts "nslua: " before it) and the REPL alike: "FILE:LINE: why",
// without gopher-lua's stack traceback. Syntax errors are put the way lua
// words them ("x.lua:2: syntax error near 'end'"); an error object that is
// not a string (error({code = 42})) is shown with the place it was raised
// and its contents; a Go panic inside a binding is a bug, whose Go stack
// goes to a file that outlives the run.
func ErrorMessage(err error) string {
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		return err.Error()
	}
	var pe *parse.Error
	if errors.As(ae.Cause, &pe) {
		if pe.Pos.Line == parse.EOF {
			return fmt.Sprintf("%s: %s at end of input", pe.Pos.Source, pe.Message)
		}
		return fmt.Sprintf("%s:%d: %s near '%s'", pe.Pos.Source, reportedLine(pe), pe.Message, pe.Token)
	}
	if ae.Type == lua.ApiErrorPanic {
		return panicMessage(ae)
	}
	if s, ok := ae.Object.(lua.LString); ok {
		return strings.TrimSpace(string(s))
	}
	what := fmt.Sprintf("error object is a %s", ae.Object.Type())
	if ae.Object != lua.LNil {
		what += ": " + Format(ae.Object)
	}
	if where := raisedAt(ae.StackTrace); where != "" {
		return where + " " + what
	}
	return what
}

// raisedAt is the first Lua position ("x.lua:3:") in a traceback: where
// error() was called from. Go functions show as "[G]:".
func raisedAt(trace string) string {
	for _, line := range strings.Split(trace, "\n") {
		line = strings.TrimPrefix(line, "\t")
		pos, _, ok := strings.Cut(line, " in ")
		if ok && strings.HasSuffix(pos, ":") && !strings.HasPrefix(pos, "[G]") && strings.Contains(pos, ":") {
			return pos
		}
	}
	return ""
}

// panicMessage writes a Go panic's stack to a file and names it.
func panicMessage(ae *lua.ApiError) string {
	msg := ae.Object.String()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("nslua-panic-%d.log", os.Getpid()))
	note := "please report it with " + path
	if err := os.WriteFile(path, []byte(msg+"\n"+ae.StackTrace+"\n"), 0o600); err != nil {
		note = "please report it"
	}
	first, _, _ := strings.Cut(msg, "\n")
	return fmt.Sprintf("internal error (a bug in nslua, %s): %s", note, first)
}

package repl

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// One rendering for the runner and the REPL: FILE:LINE first, always.
func TestErrorMessage(t *testing.T) {
	for code, want := range map[string]string{
		"x = = 1":                               "f.lua:1: syntax error near '='",
		"function f()":                          "f.lua: syntax error at end of input",
		"\n\nerror('boom')":                     "f.lua:3: boom",
		"\nerror({code = 42})":                  "f.lua:2: error object is a table: { code = 42 }",
		"local function f() error({}) end\nf()": "f.lua:1: error object is a table: {}",
		"error(nil, 0)":                         "f.lua:1: error object is a nil",
		"local t = nil; t.x = 1":                "f.lua:1: attempt to index",
	} {
		L := lua.NewState()
		var err error
		if fn, lerr := L.Load(strings.NewReader(code), "f.lua"); lerr != nil {
			err = lerr
		} else {
			L.Push(fn)
			err = L.PCall(0, 0, nil)
		}
		L.Close()
		if got := ErrorMessage(err); !strings.HasPrefix(got, want) {
			t.Errorf("%q: %q, want %q...", code, got, want)
		}
	}
}

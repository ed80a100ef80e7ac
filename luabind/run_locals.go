package luabind

import (
	"fmt"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// keepLocalsFn is the global the main chunk calls at its end under -i; it
// exists only while the chunk runs.
const keepLocalsFn = "__nslua_keep_locals"

// DoFileKeepLocals runs a script like DoFile and then makes its top-level
// locals globals, so that `nslua -i lab.lua` can reach the topology the
// script built in locals. gopher-lua has no debug hooks, and its
// debug.getlocal misreads block scopes; instead a line is appended to the
// chunk (after its last line, so line numbers hold) that passes every
// local name the chunk declares, {a = a, ...}, to a function that sets
// them: the compiler resolves each name at the chunk's end, so a local of a
// finished block reads as the global (nil, or unchanged). A script that
// ends with a return statement cannot take the line: it runs as it is, and
// the note returned says so.
func (r *Run) DoFileKeepLocals(path string, args []string) (note string, err error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, unwrap(err))
	}
	plain, err := r.L.Load(strings.NewReader(string(src)), path)
	if err != nil {
		return "", err
	}
	code := string(src) + "\n" + keepLocalsFn + "{" + localNames(plain.Proto) + "}\n"
	if _, err := r.L.Load(strings.NewReader(code), path); err != nil {
		return "the script ends with return: its locals are not globals here", r.DoString(string(src), path, args)
	}
	r.L.SetGlobal(keepLocalsFn, r.L.NewFunction(keepLocals))
	defer r.L.SetGlobal(keepLocalsFn, lua.LNil)
	return "", r.DoString(code, path, args)
}

// localNames is "a = a, t = t" for each local name proto declares.
func localNames(proto *lua.FunctionProto) string {
	seen := map[string]bool{keepLocalsFn: true}
	var parts []string
	for _, l := range proto.DbgLocals {
		if !seen[l.Name] && isIdent(l.Name) {
			seen[l.Name] = true
			parts = append(parts, l.Name+" = "+l.Name)
		}
	}
	return strings.Join(parts, ", ")
}

// keepLocals sets the table's fields as globals.
func keepLocals(L *lua.LState) int {
	if t, ok := L.Get(1).(*lua.LTable); ok {
		t.ForEach(func(k, v lua.LValue) { L.SetGlobal(k.String(), v) })
	}
	return 0
}

func unwrap(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Script is the path of the run's script ("" for -e or a bare REPL).
func (r *Run) Script() string { return r.opts.Script }

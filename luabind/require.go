package luabind

import (
	"os"
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/scripts"
)

// setupRequire makes require look in the script's directory, then
// NSLUA_PATH, then the libraries built into the binary — so a user's own
// copy of nslua.topo next to the script wins over the built-in one.
func (rt *Runtime) setupRequire(L *lua.LState) {
	pkg, ok := L.GetGlobal("package").(*lua.LTable)
	if !ok {
		return
	}
	var path []string
	if rt.ScriptDir != "" {
		path = append(path, filepath.Join(rt.ScriptDir, "?.lua"), filepath.Join(rt.ScriptDir, "?/init.lua"))
	}
	if env := os.Getenv("NSLUA_PATH"); env != "" {
		path = append(path, env)
	}
	L.SetField(pkg, "path", lua.LString(strings.Join(path, ";")))
	loaders, ok := L.GetField(pkg, "loaders").(*lua.LTable)
	if !ok {
		return
	}
	loaders.Append(L.NewFunction(builtinLoader))
}

func builtinLoader(L *lua.LState) int {
	name := L.CheckString(1)
	src, ok := scripts.Module(name)
	if !ok {
		L.Push(lua.LString("\n\tno built-in library '" + name + "'"))
		return 1
	}
	fn, err := L.Load(strings.NewReader(src), "nslua:"+name)
	if err != nil {
		L.RaiseError("built-in library %s: %v", name, err)
	}
	L.Push(fn)
	return 1
}

package luabind

import (
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/scripts"
)

// libDocs are the built-in libraries' entries, read from the header
// comments of scripts/*.lua (scripts.Entries), so the reference sits next
// to the code and a user of the binary gets it from help() and docs/API.md.
// They are read on first use, not at start: parsing every script's header
// was a third of the package initialisation of each run, help() or not.
var libDocs = sync.OnceValue(func() []Doc {
	var out []Doc
	for _, e := range scripts.Entries() {
		out = append(out, Doc{Section: "Library " + e.Module + " (`require(\"" + e.Module + "\")`)",
			Name: e.Name, Sig: e.Sig, Text: e.Text, Lib: e.Module, Extra: true})
	}
	return out
})

// allDocs is the whole reference: Docs, then the libraries' entries.
func allDocs() []Doc {
	lib := libDocs()
	return append(append(make([]Doc, 0, len(Docs)+len(lib)), Docs...), lib...)
}

// libName finds a function of a loaded built-in library by identity: the
// name of its entry ("topo.star", "topo.cidr.host"), or "".
func libName(L *lua.LState, fn *lua.LFunction) string {
	loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable)
	if !ok {
		return ""
	}
	found := ""
	loaded.ForEach(func(k, v lua.LValue) {
		mod, isMod := v.(*lua.LTable)
		name := lua.LVAsString(k)
		if found != "" || !isMod || !strings.HasPrefix(name, "nslua.") {
			return
		}
		found = findIn(mod, fn, strings.TrimPrefix(name, "nslua."), 2)
	})
	return found
}

// findIn looks for fn among t's functions and, depth levels down, those
// of its tables (topo.cidr).
func findIn(t *lua.LTable, fn *lua.LFunction, path string, depth int) string {
	found := ""
	t.ForEach(func(k, v lua.LValue) {
		if found != "" {
			return
		}
		switch v := v.(type) {
		case *lua.LFunction:
			if v == fn {
				found = path + "." + lua.LVAsString(k)
			}
		case *lua.LTable:
			if depth > 1 {
				found = findIn(v, fn, path+"."+lua.LVAsString(k), depth-1)
			}
		}
	})
	return found
}

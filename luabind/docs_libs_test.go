package luabind

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/scripts"
)

// exportedLibFuncs lists what every built-in library exports: its
// functions and those of its tables (topo.cidr), by entry name; names
// starting with "_" are internal.
func exportedLibFuncs(t *testing.T, L *lua.LState) map[string]bool {
	out := map[string]bool{}
	var walk func(tbl *lua.LTable, path string, depth int)
	walk = func(tbl *lua.LTable, path string, depth int) {
		tbl.ForEach(func(k, v lua.LValue) {
			key := lua.LVAsString(k)
			if strings.HasPrefix(key, "_") {
				return
			}
			switch v := v.(type) {
			case *lua.LFunction:
				out[path+"."+key] = true
			case *lua.LTable:
				if depth > 1 {
					walk(v, path+"."+key, depth-1)
				}
			}
		})
	}
	for _, mod := range scripts.Modules() {
		if err := L.DoString(`_m = require("` + mod + `")`); err != nil {
			t.Fatalf("require %s: %v", mod, err)
		}
		walk(L.GetGlobal("_m").(*lua.LTable), strings.TrimPrefix(mod, "nslua."), 2)
	}
	return out
}

// Every function a built-in library exports has an entry in its header
// comment, and every entry names a function that exists.
func TestEveryLibraryFunctionIsDocumented(t *testing.T) {
	L := libState(t)
	exported := exportedLibFuncs(t, L)
	documented := map[string]bool{}
	for _, d := range allDocs() {
		if d.Lib != "" {
			documented[d.Name] = true
		}
	}
	var missing, stale []string
	for name := range exported {
		if !documented[name] {
			missing = append(missing, name)
		}
	}
	for name := range documented {
		if !exported[name] {
			stale = append(stale, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 || len(stale) > 0 {
		t.Errorf("library functions without an entry in their script's header: %v; entries of nothing: %v", missing, stale)
	}
	if len(exported) < 40 {
		t.Errorf("only %d library functions found", len(exported))
	}
}

func TestHelpOfLibraryFunctions(t *testing.T) {
	var out bytes.Buffer
	L := libStateTo(t, &out)
	for code, want := range map[string]string{
		`local topo = require("nslua.topo"); help(topo.star)`: "topo.star(opts) -> star\n\nA hub namespace",
		`help("topo.star")`:                               "opts.prefix",
		`help(require("nslua.topo").cidr.host)`:           "topo.cidr.host(prefix, i)",
		`local d = require("nslua.dhcp"); help(d.server)`: "dhcp.server(n, opts) -> server",
		`help(require("nslua.expect").ping)`:              "expect.ping(from, addr [, opts])",
		`help()`:                                          "Library nslua.topo",
		`help(function() end)`:                            "no help for",
	} {
		out.Reset()
		if err := L.DoString(code); err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("%s printed %q, want it to contain %q", code, out.String(), want)
		}
	}
}

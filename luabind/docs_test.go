package luabind

import (
	"bytes"
	"flag"
	"os"
	"sort"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

var update = flag.Bool("update", false, "rewrite docs/API.md from Docs")

// docs/API.md is generated from Docs; it must not drift.
func TestAPIReference(t *testing.T) {
	var buf bytes.Buffer
	Markdown(&buf)
	const path = "../docs/API.md"
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(have, buf.Bytes()) {
		t.Fatalf("docs/API.md is out of date: go test ./luabind -run TestAPIReference -update")
	}
}

// Every function and method the module exposes has a help entry, and
// every entry names something that exists.
func TestEveryFunctionIsDocumented(t *testing.T) {
	rt := &Runtime{}
	exposed := map[string]bool{"help": true}
	for name := range rt.moduleFuncs() {
		exposed["ns."+name] = true
	}
	for typ, methods := range map[string]map[string]lua.LGFunction{
		typeNetns: rt.netnsMethods(), typeLink: rt.linkMethods(), typeProc: rt.procMethods(),
		typeCapture: rt.captureMethods(), typeTimer: timerMethods(),
	} {
		for name := range methods {
			exposed[typ+":"+name] = true
		}
	}
	documented := map[string]bool{}
	for _, d := range Docs {
		if !strings.HasSuffix(d.Name, " fields") && d.Lib == "" {
			documented[d.Name] = true
		}
	}
	var missing, stale []string
	for name := range exposed {
		if !documented[name] {
			missing = append(missing, name)
		}
	}
	for name := range documented {
		if !exposed[name] {
			stale = append(stale, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 || len(stale) > 0 {
		t.Errorf("undocumented: %v; documented but absent: %v", missing, stale)
	}
}

func TestHelpFindsEntries(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var out bytes.Buffer
	rt := &Runtime{Out: &out}
	L.SetGlobal("ns", L.SetFuncs(L.NewTable(), rt.moduleFuncs()))
	L.SetGlobal("help", L.NewFunction(rt.help))
	for code, want := range map[string]string{
		`help(ns.add)`:        "ns.add(name [, opts]) -> Netns",
		`help("Netns:exec")`:  "n:exec(cmd [, opts])",
		`help("exec")`:        "n:exec(cmd [, opts])",
		`help()`:              "Netns methods:",
		`help("nonexistent")`: "no help for",
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

// help(obj.method) finds the method whatever the object's type, also of
// the types registered on first use (Capture): nameOf once searched only
// Netns, Link and Proc, and help(c.stop) printed "no help".
func TestHelpFindsMethodsOfEveryType(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var out bytes.Buffer
	rt := &Runtime{Out: &out}
	L.SetGlobal("help", L.NewFunction(rt.help))
	rt.registerType(L, typeCapture, captureFields, rt.captureMethods(), nil)
	rt.registerType(L, typeProc, procFields, rt.procMethods(), nil)
	L.SetGlobal("c", rt.newUD(L, typeCapture, &luaCapture{}))
	L.SetGlobal("p", rt.newUD(L, typeProc, nil))
	for code, want := range map[string]string{
		`help(c.stop)`:    "c:stop() -> count",
		`help(c.packets)`: "c:packets() -> ",
		`help(p.kill)`:    "p:kill(",
		`help("stop")`:    "c:stop() -> count",
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

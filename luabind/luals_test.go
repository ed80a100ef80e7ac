package luabind

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func luaLS(t *testing.T) string {
	var buf bytes.Buffer
	if err := WriteLuaLS(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// A real Lua 5.1 parser accepts the definition file.
func TestLuaLSParses(t *testing.T) {
	luac, err := exec.LookPath("luac5.1")
	if err != nil {
		t.Fatal("luac5.1 is not installed (Debian package lua5.1, in tests/packages.txt)")
	}
	file := filepath.Join(t.TempDir(), "nslua.d.lua")
	os.WriteFile(file, []byte(luaLS(t)), 0o644)
	if out, err := exec.Command(luac, "-p", file).CombinedOutput(); err != nil {
		t.Fatalf("luac5.1 -p rejects the definition file: %v\n%s", err, out)
	}
	// and the parser is not blind: a broken file is refused
	os.WriteFile(file, []byte(luaLS(t)+"\nfunction ns.broken(a,, b) end\n"), 0o644)
	if err := exec.Command(luac, "-p", file).Run(); err == nil {
		t.Fatal("luac5.1 -p accepts a syntax error")
	}
}

// wantDecl is the declaration a Doc's function must have, read off its
// Sig independently of the generator: the names inside the first (...)
// with brackets and alternatives dropped, or one table for f{...}.
func wantDecl(d Doc) string {
	sig := d.Sig
	open := strings.IndexAny(sig, "({")
	if open < 0 {
		return d.Name + "()"
	}
	if sig[open] == '{' {
		return d.Name + "(opts)"
	}
	rest := regexp.MustCompile(`\{[^{}]*\}`).ReplaceAllString(sig[open:], "opts")
	inner := rest[1:strings.Index(rest, ")")]
	inner = strings.NewReplacer("[", "", "]", "").Replace(inner)
	var names []string
	for _, p := range strings.Split(inner, ",") {
		p = strings.TrimSpace(strings.SplitN(p, "|", 2)[0])
		if p != "" {
			names = append(names, p)
		}
	}
	return d.Name + "(" + strings.Join(names, ", ") + ")"
}

// missingFuncs lists the Docs functions that file does not declare with
// their parameters (each with a ---@param line).
func missingFuncs(docs []Doc, file string) []string {
	var missing []string
	for _, d := range docs {
		if strings.HasSuffix(d.Name, " fields") {
			continue
		}
		decl := wantDecl(d)
		i := strings.Index(file, "\nfunction "+decl+" end\n")
		if i < 0 {
			missing = append(missing, decl)
			continue
		}
		block := file[strings.LastIndex(file[:i], "\n\n")+1 : i]
		params := decl[strings.Index(decl, "(")+1 : len(decl)-1]
		for _, p := range strings.Split(params, ", ") {
			if p != "" && !regexp.MustCompile(`---@param `+regexp.QuoteMeta(p)+`\??\s`).MatchString(block) {
				missing = append(missing, decl+" @param "+p)
			}
		}
	}
	return missing
}

// The file names every function of Docs with its parameters, and the
// classes with their fields.
func TestLuaLSNamesEveryFunction(t *testing.T) {
	file := luaLS(t)
	if m := missingFuncs(allDocs(), file); len(m) > 0 {
		t.Errorf("the definition file lacks %q", m)
	}
	for _, want := range []string{
		"---@class Netns\n---@field name string\n---@field path string\n---@field inode integer\n",
		"---@param opts? table\n---@return Netns\nfunction ns.add(name, opts) end",
		"---@param cmd string|string[]\n---@param opts? table\n---@return table\nfunction Netns:exec(cmd, opts) end",
		"---@return Link\n---@return Link\nfunction Netns:veth(name, peer_ns, peer_name, opts) end",
		"---@param dev? string\n---@overload fun(self: Netns, opts: table)\nfunction Netns:route(dst, via, dev) end",
		"---@return nslua.dhcp.server\nfunction nslua_dhcp.server(n, opts) end",
		"---@field cidr nslua.topo.cidr\n",
	} {
		if !strings.Contains(file, want) {
			t.Errorf("the definition file lacks:\n%s", want)
		}
	}
}

// The check above fails when Docs gains a function a file lacks, and a
// file made after the addition has it.
func TestLuaLSDrift(t *testing.T) {
	before := luaLS(t)
	saved := Docs
	t.Cleanup(func() { Docs = saved })
	Docs = append(append([]Doc{}, saved...), Doc{Section: secNetns, Name: "Netns:brand_new", Sig: "n:brand_new(a, b [, c]) -> n"})
	if m := missingFuncs(Docs, before); len(m) != 1 || m[0] != "Netns:brand_new(a, b, c)" {
		t.Errorf("a file made before Docs gained Netns:brand_new: missing %q, want exactly it", m)
	}
	after := luaLS(t)
	if m := missingFuncs(Docs, after); len(m) > 0 {
		t.Errorf("a file made after: missing %q", m)
	}
	if !strings.Contains(after, "---@param c? any\n---@return Netns\nfunction Netns:brand_new(a, b, c) end") {
		t.Errorf("Netns:brand_new is declared wrongly:\n%s", after[strings.Index(after, "n:brand_new"):])
	}
}

// Sig shapes other entries may use: a table among the parameters, a
// vararg, a quoted example.
func TestLuaLSSigShapes(t *testing.T) {
	saved := Docs
	t.Cleanup(func() { Docs = saved })
	Docs = []Doc{
		{Name: "Netns:vxlan", Sig: "n:vxlan(name, {id=, remote=}) -> Link"},
		{Name: "ns.each", Sig: "ns.each(fn, ...)"},
		{Name: "Link:qdisc", Sig: `l:qdisc("netem" | kind [, opts]) -> l`},
	}
	file := luaLS(t)
	if m := missingFuncs(Docs, file); len(m) != 1 || !strings.HasPrefix(m[0], "Link:qdisc") {
		t.Errorf("missing %q, want only Link:qdisc (its first parameter is an example)", m)
	}
	for _, want := range []string{"function Netns:vxlan(name, opts) end", "function ns.each(fn, ...) end", "function Link:qdisc(arg1, opts) end"} {
		if !strings.Contains(file, want) {
			t.Errorf("lacks %q", want)
		}
	}
}

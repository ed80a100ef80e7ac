package luabind

import (
	"regexp"
	"strings"

	"github.com/nslua/nslua/scripts"
)

// luaParamTypes is the LuaLS type of a parameter, by its name in Sigs.
var luaParamTypes = map[string]string{
	"name": "string", "opts": "table", "target": "integer|string", "fn": "function",
	"cmd": "string|string[]", "path": "string", "content": "string", "peer_ns": "Netns",
	"peer_name": "string", "dev": "string", "cidr": "string", "dst": "string", "via": "string",
	"key": "string", "value": "string|number|boolean", "mac": "string", "bridge": "Link",
	"netns": "Netns", "new_name": "string", "on": "boolean", "mask": "integer", "timeout": "number",
	"signal": "string|integer", "seconds": "number", "iface": "string", "identity": "string",
	"prefix": "string", "len": "integer", "i": "integer", "ip": "string", "source": "string",
	"fmt": "string", "kind": "string", "text": "string", "mode": "string", "s": "string",
}

func paramType(p param, lib bool) string {
	if p.text == "..." {
		return "any"
	}
	var alts []string
	for _, alt := range strings.Split(p.text, "|") {
		alt = strings.TrimSpace(alt)
		name := firstIdent(alt)
		switch {
		case strings.HasPrefix(alt, `"`):
			alts = append(alts, "string")
		case alt == "nil":
			alts = append(alts, "nil")
		case name == "n" && lib:
			alts = append(alts, typeNetns) // the libraries' n is a namespace
		case name == "n":
			alts = append(alts, "integer")
		case luaParamTypes[name] != "":
			alts = append(alts, luaParamTypes[name])
		default:
			alts = append(alts, "any")
		}
	}
	return strings.Join(alts, "|")
}

// returnTypes reads "Link, Link", "n | string | nil", "{string}",
// "{code=, stdout=}" after a Sig's "->"; self is the Sig's name for the
// object itself ("n" in "n:etc(...) -> n").
func returnTypes(ret, self, class string, lib bool) []string {
	if ret == "" {
		return nil
	}
	var out []string
	for _, r := range splitTop(ret, ",") {
		var alts []string
		for _, alt := range splitTop(r, "|") {
			alts = append(alts, returnType(strings.TrimSpace(alt), self, class, lib))
		}
		out = append(out, strings.Join(alts, "|"))
	}
	return out
}

var luaReturnTypes = map[string]string{
	"Netns": typeNetns, "Link": typeLink, "Proc": typeProc, "Capture": typeCapture, "Timer": typeTimer, "string": "string", "table": "table",
	"boolean": "boolean", "bool": "boolean", "nil": "nil", "mac": "string", "seconds": "number",
	"n": "integer", "path": "string", "value": "any", "why": "string", "stdout": "string", "true": "boolean", "false": "boolean",
}

func returnType(r, self, class string, lib bool) string {
	word := firstIdent(r)
	switch {
	case strings.HasPrefix(r, "{") && strings.Contains(r, "="):
		return "table"
	case strings.HasPrefix(r, "{"):
		inner := firstIdent(r)
		if t := returnType(inner, self, class, lib); t != "any" && t != "table" {
			return t + "[]"
		}
		if inner == "pid" || inner == "cidr" {
			return map[string]string{"pid": "integer[]", "cidr": "string[]"}[inner]
		}
		return "table"
	case strings.HasPrefix(r, `"`):
		return "string"
	case strings.HasPrefix(r, "nslua."): // a library's object class
		return strings.Fields(r)[0]
	case self != "" && word == self && class != "":
		return class
	case luaReturnTypes[word] != "":
		return luaReturnTypes[word]
	case lib && word != "" && word == r:
		return "table" // the libraries return named tables: "-> star"
	}
	return "any"
}

// libFunc is one function a built-in library's header documents.
type libFunc struct {
	name, sig string // "star", "topo.star(opts) -> star"
	method    bool
}

// libSig is a signature at the start of a header line's text,
// "topo.star(opts) -> star" or "auth:cli(cmd, ...) -> ...": a return
// ends at two spaces (the comment after it), and "; " or ", " may start
// another signature.
var libSig = regexp.MustCompile(`^([a-z_]+(?:\.[a-z_]+)*?)([.:])([a-z_]+)\(([^()]*)\)(\s*->\s*(.*?))?(\s{2,}|; |, |$)`)

// libraryDocs reads the leading comment block of each built-in library:
// its functions (topo.star), its tables' (cidr.parse) and its objects'
// methods (auth:cli), keyed by class: "nslua.topo", "nslua.topo.cidr",
// "nslua.ap.auth". Only signatures that start a line count, not calls
// mentioned in prose.
func libraryDocs() map[string][]libFunc {
	classes := map[string][]libFunc{}
	for _, mod := range scripts.Modules() {
		src, _ := scripts.Module(mod)
		classes[mod] = []libFunc{}
		for _, line := range strings.Split(src, "\n") {
			if !strings.HasPrefix(line, "--") {
				break
			}
			text := strings.TrimSpace(strings.TrimPrefix(line, "--"))
			for m := libSig.FindStringSubmatch(text); m != nil; m = libSig.FindStringSubmatch(text) {
				addLibFunc(classes, mod, m)
				text = strings.TrimSpace(text[len(m[0]):])
				if m[7] != "; " && m[7] != ", " {
					break
				}
			}
		}
	}
	linkObjects(classes)
	return classes
}

func addLibFunc(classes map[string][]libFunc, mod string, m []string) {
	class, short := mod, strings.TrimPrefix(mod, "nslua.")
	if inner, ok := strings.CutPrefix(m[1], short+"."); ok {
		class = mod + "." + inner // "topo.cidr.parse": a table of the module
	} else if m[1] != short {
		class = mod + "." + m[1]
	}
	for _, f := range classes[class] {
		if f.name == m[3] {
			return // documented twice: the first is the one
		}
	}
	sig := m[1] + m[2] + m[3] + "(" + m[4] + ")"
	if m[6] != "" {
		sig += " -> " + strings.TrimSpace(m[6])
	}
	classes[class] = append(classes[class], libFunc{name: m[3], sig: sig, method: m[2] == ":"})
}

// linkObjects makes "ap.authenticator(n, opts) -> auth" return the class
// of auth's methods, nslua.ap.auth.
func linkObjects(classes map[string][]libFunc) {
	for class, fs := range classes {
		mod := libModule(class)
		for i, f := range fs {
			at := strings.Index(f.sig, "-> ")
			if at < 0 {
				continue
			}
			ret := f.sig[at+3:]
			word := firstIdent(ret)
			if obj := mod + "." + word; word != "" && hasMethods(classes[obj]) && strings.HasPrefix(ret, word) {
				fs[i].sig = f.sig[:at+3] + obj + ret[len(word):]
			}
		}
	}
}

// writeLibraries declares each library as a class ("nslua.topo"); a
// script gets its completion with `local topo = require("nslua.topo") ---@type nslua.topo`.
func writeLibraries(b *strings.Builder) {
	classes := libraryDocs()
	for _, class := range sortedKeys(classes) {
		local := strings.ReplaceAll(class, ".", "_")
		b.WriteString("---Built-in library: `require(\"" + libModule(class) + "\")` (see its source's header).\n")
		b.WriteString("---@class " + class + "\n")
		for _, sub := range sortedKeys(classes) {
			if strings.HasPrefix(sub, class+".") && !strings.Contains(sub[len(class)+1:], ".") && !hasMethods(classes[sub]) {
				b.WriteString("---@field " + sub[len(class)+1:] + " " + sub + "\n")
			}
		}
		b.WriteString("local " + local + " = {}\n\n")
		for _, f := range classes[class] {
			sep, self := ".", ""
			if f.method {
				sep, self = ":", class
			}
			writeFunc(b, local+sep+f.name, f.sig, "", self, true)
		}
	}
}

func libModule(class string) string {
	parts := strings.SplitN(class, ".", 3)
	return parts[0] + "." + parts[1]
}

func hasMethods(fs []libFunc) bool {
	for _, f := range fs {
		if f.method {
			return true
		}
	}
	return false
}

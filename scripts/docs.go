package scripts

import (
	"regexp"
	"strings"
)

// Entry is the reference of one library function, read from the header
// comment of its script: the one source of its help() entry and of
// docs/API.md, next to the code it describes.
type Entry struct {
	Module string // "nslua.topo"
	Name   string // "topo.star", "topo.cidr.host"
	Sig    string // "topo.star(opts) -> star"
	Text   string // the indented lines after the signature, as written
}

// entryLine is a line of a header that starts an entry: "-- NAME(", NAME
// being the module's short name and a dotted path ("-- topo.cidr.host(").
var entryLine = regexp.MustCompile(`^-- ([a-z_]+(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\(`)

// Entries reads every built-in library's header comment. In it an entry is
// a line "-- mod.fn(args) -> result" followed by its lines indented by two
// spaces or more; a line indented less, or a blank comment line, ends it.
func Entries() []Entry {
	var out []Entry
	for _, mod := range Modules() {
		src, _ := Module(mod)
		out = append(out, parseHeader(mod, src)...)
	}
	return out
}

func parseHeader(mod, src string) []Entry {
	short := strings.TrimPrefix(mod, "nslua.")
	var out []Entry
	var cur *Entry
	for _, line := range strings.Split(src, "\n") {
		if !strings.HasPrefix(line, "--") {
			break // the header ends at the first line of code
		}
		if m := entryLine.FindStringSubmatch(line); m != nil && strings.HasPrefix(m[1], short+".") {
			out = append(out, Entry{Module: mod, Name: m[1], Sig: strings.TrimPrefix(line, "-- ")})
			cur = &out[len(out)-1]
			continue
		}
		if cur != nil && strings.HasPrefix(line, "--  ") {
			cur.Text += strings.TrimPrefix(line, "--") + "\n"
			continue
		}
		cur = nil
	}
	for i := range out {
		out[i].Text = dedent(out[i].Text)
	}
	return out
}

// dedent removes the indentation all of text's lines share.
func dedent(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if common < 0 || n < common {
			common = n
		}
	}
	for i, l := range lines {
		if len(l) >= common && common > 0 {
			lines[i] = l[common:]
		}
	}
	return strings.Join(lines, "\n")
}

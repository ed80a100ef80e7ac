package repl

import (
	"slices"
	"testing"
)

func TestComplete(t *testing.T) {
	L := newTestLua()
	defer L.Close()
	if err := L.DoString(`
		lab = ns.add("lab1")
		str = "text"
		Base = {greet = function() end, version = 1}
		Base.__index = Base
		Derived = setmetatable({own = function() end}, Base)
		obj = setmetatable({field = 1}, Derived)
		Derived.__index = Derived
	`); err != nil {
		t.Fatal(err)
	}
	names := func() []string { return []string{"lab2", "lab1", "other"} }
	for _, tc := range []struct {
		before, head string
		want         []string
	}{
		{"ns.a", "ns.", []string{"add"}},
		{"ns.", "ns.", []string{"add", "list", "open"}},
		{"x = ns.l", "x = ns.", []string{"list"}},
		{"lab:", "lab:", []string{"delete", "exec", "veth"}}, // methods only, no field "kind"
		{"lab:e", "lab:", []string{"exec"}},
		{"lab.", "lab.", []string{"delete", "exec", "kind", "veth"}},
		{"obj.__", "obj.", []string{"__index"}},                                   // metamethods when asked
		{"lnk:", "lnk:", []string{"addr", "down", "up"}},                          // __methods
		{"lnk.", "lnk.", []string{"addr", "down", "index", "kind", "name", "up"}}, // and __fields
		{"lnk.n", "lnk.", []string{"name"}},
		{"str:up", "str:", []string{"upper"}}, // string methods
		{"obj.", "obj.", []string{"field", "greet", "own", "version"}},
		{"obj:", "obj:", []string{"greet", "own"}},
		{"string.fo", "string.", []string{"format"}},
		{"pri", "", []string{"print"}},
		{"x = pri", "x = ", []string{"print"}},
		{"local s = 'a'..pri", "local s = 'a'..", []string{"print"}},
		{"wh", "", []string{"while"}},
		{"ns.open(\"", "ns.open(\"", []string{"lab1\"", "lab2\"", "other\""}},
		{"n = ns.open('la", "n = ns.open('", []string{"lab1'", "lab2'"}},
		{"ns.inspect( \"o", "ns.inspect( \"", []string{"other\""}},
		{"ns.open \"l", "ns.open \"", []string{"lab1\"", "lab2\""}},
		// Nothing to offer:
		{"print(\"ns.a", "print(\"ns.a", nil}, // inside an ordinary string
		{"-- ns.a", "-- ns.a", nil},           // inside a comment
		{"x.ns.open(\"", "x.ns.open(\"", nil}, // not the ns module
		{"ns.host():", "ns.host():", nil},     // needs a call to know
		{"t[1].", "t[1].", nil},               // needs an index to know
		{"nosuch.", "nosuch.", nil},           // unknown global
		{"ns.add.x", "ns.add.", nil},          // a function has no fields
		{"lab:exec:", "lab:exec:", nil},       // ":" mid-path
		{"1.5", "1.5", nil},                   // a number
		{"ns.zz", "ns.", nil},                 // no match
	} {
		head, got := Complete(L, names, tc.before)
		if head != tc.head || !slices.Equal(got, tc.want) {
			t.Errorf("Complete(%q) = %q %q, want %q %q", tc.before, head, got, tc.head, tc.want)
		}
	}
}

func TestCompleteWithoutNames(t *testing.T) {
	L := newTestLua()
	defer L.Close()
	if _, got := Complete(L, nil, `ns.open("`); got != nil {
		t.Errorf("got %q without a Names function", got)
	}
}

// completeWord is what liner calls: the cursor may sit inside the line,
// and a closing quote already there is not doubled.
func TestCompleteWord(t *testing.T) {
	L := newTestLua()
	defer L.Close()
	s := &session{L: L, cfg: Config{Names: func() []string { return []string{"lab1"} }}}
	for _, tc := range []struct {
		line           string
		pos            int
		head, tail     string
		wantCandidates []string
	}{
		{"ns.a", 4, "ns.", "", []string{"add"}},
		{"x = ns.a + 1", 8, "x = ns.", " + 1", []string{"add"}},
		{`ns.open("l")`, 10, `ns.open("`, `")`, []string{"lab1"}},
		{`ns.open("l`, 10, `ns.open("`, ``, []string{`lab1"`}},
		{"ünï = ns.a", 10, "ünï = ns.", "", []string{"add"}}, // pos counts runes
	} {
		head, got, tail := s.completeWord(tc.line, tc.pos)
		if head != tc.head || tail != tc.tail || !slices.Equal(got, tc.wantCandidates) {
			t.Errorf("completeWord(%q, %d) = %q %q %q, want %q %q %q",
				tc.line, tc.pos, head, got, tail, tc.head, tc.wantCandidates, tc.tail)
		}
	}
}

package repl

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peterh/liner"
)

func TestHistoryEntryIsOneLine(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"x = 1"}, "x = 1"},
		{[]string{"function sq(x)", "  return x * x", "end"}, "function sq(x) return x * x end"},
		{[]string{"function f()  -- the helper", "  return 1 -- one", "end"}, "function f() return 1 end"},
		{[]string{"t = {1, --[[ first", "second ]] 2}"}, "t = {1,   2}"},
		{[]string{"s = [[", "a", "b]]"}, `s = "a\nb"`},
		{[]string{"s = [==[x]]", "]==]"}, `s = "x]]\n"`},
		{[]string{`s = "a\`, `b"`}, `s = "a\nb"`},
		{[]string{`s = "-- not a comment" ..`, `  "x"`}, `s = "-- not a comment" .. "x"`},
		{[]string{"if x then", "end"}, "if x then end"},
		// A chunk that does not compile is still flattened, to be fixed.
		{[]string{"x = (", ")"}, "x = ( )"},
	} {
		if got := historyEntry(tc.lines); got != tc.want {
			t.Errorf("historyEntry(%q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
}

// The one-line form compiles to the same code as the lines typed.
func TestOneLineKeepsMeaning(t *testing.T) {
	for _, src := range []string{
		"function f(a, b)\n  local s = a .. [[\nx\r\ny]]\n  return s, '\\\nz' -- c\nend",
		"for i = 1, 3 do\n  --[==[ long\n comment ]==]\n  print(i)\nend",
		"x = { a = 1,\n  b = \"two\",\n  c = [=[\n]]\n]=] }",
	} {
		want, err := compileProto(src)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		flat := oneLine(src)
		got, err := compileProto(flat)
		if err != nil || !sameProto(want, got) || strings.ContainsAny(flat, "\r\n") {
			t.Errorf("oneLine(%q) = %q: err %v, same code %v", src, flat, err, err == nil && sameProto(want, got))
		}
	}
	// sameProto does tell chunks apart.
	a, _ := compileProto("x = 1")
	b, _ := compileProto("x = 2")
	if sameProto(a, b) {
		t.Error("sameProto cannot tell x = 1 from x = 2")
	}
}

func TestDefaultHistoryFile(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/state")
	if got, _ := DefaultHistoryFile(); got != "/state/nslua/history" {
		t.Errorf("with XDG_STATE_HOME: %q", got)
	}
	t.Setenv("XDG_STATE_HOME", "relative/ignored")
	t.Setenv("HOME", "/home/u")
	if got, _ := DefaultHistoryFile(); got != "/home/u/.local/state/nslua/history" {
		t.Errorf("without XDG_STATE_HOME: %q", got)
	}
}

func historyOf(t *testing.T, ln *liner.State) []string {
	t.Helper()
	var b bytes.Buffer
	if _, err := ln.WriteHistory(&b); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

func TestHistoryFileAcrossRuns(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	var warnings bytes.Buffer
	// A zero liner.State holds history without touching the terminal.
	h := openHistory(&liner.State{}, "", &warnings)
	h.add("x = 1")
	h.add("x = 1") // a repeat is not stored twice
	h.add(historyEntry([]string{"function f()", "  return 2", "end"}))
	h.add("s = [[a\nb]]")            // kept in memory, but not in the file
	h.add(strings.Repeat("y", 5000)) // too long for liner to read back
	h.add("   ")
	h.close()
	if warnings.Len() > 0 {
		t.Fatalf("warnings: %s", warnings.String())
	}
	path, _ := DefaultHistoryFile()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "x = 1\nfunction f() return 2 end\n"; string(data) != want {
		t.Errorf("history file %q, want %q", data, want)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("history file mode: %v %v", fi.Mode(), err)
	}

	ln := &liner.State{}
	h2 := openHistory(ln, "", &warnings)
	h2.add("function f() return 2 end") // same as the last loaded entry
	h2.add("y = 2")
	h2.close()
	got := historyOf(t, ln)
	want := []string{"x = 1", "function f() return 2 end", "y = 2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("second run's history %q, want %q", got, want)
	}
}

func TestHistoryFileIsCompacted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "history")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range 2*liner.HistoryLimit + 10 {
		fmt.Fprintf(&b, "x = %d\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var warnings bytes.Buffer
	h := openHistory(&liner.State{}, path, &warnings)
	h.add("last")
	h.close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != liner.HistoryLimit+1 || lines[0] != fmt.Sprintf("x = %d", liner.HistoryLimit+10) || lines[len(lines)-1] != "last" {
		t.Errorf("compacted file has %d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	if warnings.Len() > 0 {
		t.Errorf("warnings: %s", warnings.String())
	}
}

func TestHistoryUnwritable(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var warnings bytes.Buffer
	ln := &liner.State{}
	h := openHistory(ln, filepath.Join(blocker, "history"), &warnings)
	h.add("x = 1")
	h.close()
	if !strings.Contains(warnings.String(), "history not saved") {
		t.Errorf("no warning: %q", warnings.String())
	}
	if got := historyOf(t, ln); len(got) != 1 || got[0] != "x = 1" {
		t.Errorf("in-memory history %q", got)
	}
}

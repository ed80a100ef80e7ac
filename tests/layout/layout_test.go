// Package layout checks the size rules of the code base (STYLE: files of
// at most ~500 lines, functions that fit on a screen, at most ~60 lines)
// for every Go source file that is not a test.
package layout

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

const (
	maxFileLines = 500
	maxFuncLines = 60
)

// known are the places over the limits today, with their size then: they
// may shrink, not grow. Remove an entry once its place is within limits.
var known = map[string]int{
	"internal/repl/repl.go":             525,
	"internal/repl/repl.go:readLoop":    63,
	"internal/repl/repl.go:interactive": 61,
}

// root is the repository, two levels up from tests/layout.
const root = "../.."

func TestSizes(t *testing.T) {
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		for place, n := range sizes(t, path) {
			key := rel + place
			seen[key] = true
			limit := maxFuncLines
			if place == "" {
				limit = maxFileLines
			}
			if old, ok := known[key]; ok {
				if n > old {
					t.Errorf("%s: %d lines, was %d (limit %d): it may shrink, not grow", key, n, old, limit)
				}
				continue
			}
			t.Errorf("%s: %d lines, the limit is %d", key, n, limit)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range known {
		if !seen[key] {
			t.Errorf("%s is within the limits now: remove it from known", key)
		}
	}
}

// sizes returns the places of a file over the limits: "" for the file
// itself, ":Name" for a function or method.
func sizes(t *testing.T, path string) map[string]int {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return nil
	}
	out := map[string]int{}
	if n := fset.File(f.Pos()).LineCount(); n > maxFileLines {
		out[""] = n
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		if n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1; n > maxFuncLines {
			out[":"+fd.Name.Name] = n
		}
	}
	return out
}

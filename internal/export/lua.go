package export

import (
	"strings"
	"unicode/utf8"

	"github.com/nslua/nslua/internal/luastr"
)

// reserved are Lua's keywords and the globals a script needs.
var reserved = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "if": true, "in": true, "local": true,
	"nil": true, "not": true, "or": true, "repeat": true, "return": true, "then": true,
	"true": true, "until": true, "while": true, "ns": true, "host": true, "arg": true,
	"print": true, "require": true, "string": true, "table": true, "os": true, "io": true,
}

// identifier turns a namespace or link name into a Lua name.
func identifier(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 128 && (r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	id := b.String()
	if id == "" || id[0] >= '0' && id[0] <= '9' {
		id = "n_" + id
	}
	return id
}

// longString writes a file's content readably, as a [[...]] block, when
// that reads back exactly; otherwise as a quoted string.
func longString(s string) string {
	if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\x00") {
		return luastr.Quote(s)
	}
	level := ""
	for strings.Contains(s, "]"+level+"]") {
		level += "="
	}
	// A newline right after the opening bracket is skipped by Lua, so
	// the content keeps its own first line break, if any.
	return "[" + level + "[\n" + s + "]" + level + "]"
}

func list(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = luastr.Quote(it)
	}
	return "{" + strings.Join(q, ", ") + "}"
}

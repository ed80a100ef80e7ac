package repl

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nslua/nslua/internal/luastr"
	lua "github.com/yuin/gopher-lua"
)

const (
	// maxDepth is how deep tables nest before they print as "{...}": deep
	// enough for inspect() results, shallow enough for _G and its friends.
	maxDepth = 6
	// maxItems caps the entries printed per table.
	maxItems = 200
	// inlineWidth is the longest table that is printed on one line.
	inlineWidth = 72
	indent      = "  "
)

// Format renders v as the REPL prints it: a string as its raw text; a
// table nested and indented, keys sorted (array part first), tables deeper
// than a limit as "{...}" and a table met again inside itself as
// "<cycle table: 0x...>"; and anything with a __tostring metamethod (every
// nslua object) by that metamethod.
//
// Format has no LState to run __tostring on, so it uses a throw-away one;
// that works for Go metamethods and for Lua ones alike, since a Lua function
// carries its own environment. Code that holds the LState should call FormatL.
func Format(v lua.LValue) string {
	p := &printer{}
	defer p.close()
	return p.top(v)
}

// FormatL is Format running __tostring metamethods on L, and so under L's
// context: an interrupt stops a metamethod that loops.
func FormatL(L *lua.LState, v lua.LValue) string {
	p := &printer{L: L}
	return p.top(v)
}

type printer struct {
	L       *lua.LState
	scratch bool // L was made by the printer and must be closed
	path    map[*lua.LTable]bool
}

func (p *printer) close() {
	if p.scratch {
		p.L.Close()
	}
}

func (p *printer) state() *lua.LState {
	if p.L == nil {
		p.L = lua.NewState()
		p.scratch = true
	}
	return p.L
}

func (p *printer) top(v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return string(s)
	}
	return p.value(v, 0)
}

func (p *printer) value(v lua.LValue, depth int) string {
	if s, ok := p.tostring(v); ok {
		return s
	}
	switch x := v.(type) {
	case lua.LString:
		return luastr.Quote(string(x))
	case *lua.LTable:
		return p.table(x, depth)
	}
	return v.String()
}

// tostring applies v's __tostring metamethod, if it has one.
func (p *printer) tostring(v lua.LValue) (string, bool) {
	var mt lua.LValue
	switch x := v.(type) {
	case *lua.LTable:
		mt = x.Metatable
	case *lua.LUserData:
		mt = x.Metatable
	default:
		return "", false
	}
	mtt, ok := mt.(*lua.LTable)
	if !ok {
		return "", false
	}
	fn, ok := mtt.RawGetString("__tostring").(*lua.LFunction)
	if !ok {
		return "", false
	}
	L := p.state()
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, v); err != nil {
		return fmt.Sprintf("%s (__tostring failed: %s)", v.String(), ErrorMessage(err)), true
	}
	ret := L.Get(-1)
	L.Pop(1)
	switch ret.(type) {
	case lua.LString, lua.LNumber:
		return ret.String(), true
	}
	return fmt.Sprintf("%s (__tostring returned a %s)", v.String(), ret.Type()), true
}

func (p *printer) table(t *lua.LTable, depth int) string {
	if p.path[t] {
		return "<cycle " + t.String() + ">"
	}
	entries := tableEntries(t)
	if len(entries) == 0 {
		return "{}"
	}
	if depth >= maxDepth {
		return "{...}"
	}
	if p.path == nil {
		p.path = map[*lua.LTable]bool{}
	}
	p.path[t] = true
	defer delete(p.path, t)

	parts := make([]string, 0, len(entries)+1)
	for i, e := range entries {
		if i == maxItems {
			parts = append(parts, fmt.Sprintf("... (%d more)", len(entries)-maxItems))
			break
		}
		val := p.value(e.val, depth+1)
		if e.key == nil {
			parts = append(parts, val)
		} else {
			parts = append(parts, p.key(e.key, depth)+" = "+val)
		}
	}
	return layout(parts)
}

// layout puts short flat tables on one line and the rest one entry a line.
func layout(parts []string) string {
	oneLine := "{ " + strings.Join(parts, ", ") + " }"
	if len(oneLine) <= inlineWidth && !strings.Contains(oneLine, "\n") {
		return oneLine
	}
	var b strings.Builder
	b.WriteString("{\n")
	for i, part := range parts {
		b.WriteString(indent)
		b.WriteString(strings.ReplaceAll(part, "\n", "\n"+indent))
		if i < len(parts)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}")
	return b.String()
}

func (p *printer) key(k lua.LValue, depth int) string {
	if s, ok := k.(lua.LString); ok && isIdentifier(string(s)) {
		return string(s)
	}
	return "[" + p.value(k, depth+1) + "]"
}

type entry struct {
	key lua.LValue // nil for the array part, which prints without keys
	val lua.LValue
}

// tableEntries lists t's array part 1..n in order, then the other keys
// sorted: numbers, strings, booleans, then anything else.
func tableEntries(t *lua.LTable) []entry {
	var out []entry
	n := 0
	for ; ; n++ {
		v := t.RawGetInt(n + 1)
		if v == lua.LNil {
			break
		}
		out = append(out, entry{val: v})
	}
	var rest []entry
	t.ForEach(func(k, v lua.LValue) {
		if num, ok := k.(lua.LNumber); ok && float64(num) == float64(int64(num)) && num >= 1 && int64(num) <= int64(n) {
			return
		}
		rest = append(rest, entry{key: k, val: v})
	})
	sort.Slice(rest, func(i, j int) bool { return keyLess(rest[i].key, rest[j].key) })
	return append(out, rest...)
}

func keyLess(a, b lua.LValue) bool {
	ra, rb := keyRank(a), keyRank(b)
	if ra != rb {
		return ra < rb
	}
	switch x := a.(type) {
	case lua.LNumber:
		return x < b.(lua.LNumber)
	case lua.LString:
		return x < b.(lua.LString)
	case lua.LBool:
		return !bool(x) && bool(b.(lua.LBool))
	}
	if a.Type() != b.Type() {
		return a.Type() < b.Type()
	}
	return a.String() < b.String()
}

func keyRank(v lua.LValue) int {
	switch v.(type) {
	case lua.LNumber:
		return 0
	case lua.LString:
		return 1
	case lua.LBool:
		return 2
	}
	return 3
}

var keywords = []string{
	"and", "break", "do", "else", "elseif", "end", "false", "for", "function",
	"goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
	"true", "until", "while",
}

func isKeyword(s string) bool {
	for _, k := range keywords {
		if s == k {
			return true
		}
	}
	return false
}

func isIdentifier(s string) bool {
	if s == "" || isKeyword(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentByte(s[i]) || i == 0 && s[i] >= '0' && s[i] <= '9' {
			return false
		}
	}
	return true
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

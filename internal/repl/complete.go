package repl

import (
	"regexp"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// nameArgCall matches code that ends where a namespace name is expected as
// a string argument: `ns.open(`, `ns.inspect (`, `ns.open `.
var nameArgCall = regexp.MustCompile(`(^|[^\w.:])ns\s*\.\s*(open|inspect)\s*\(?\s*$`)

// maxIndexChain bounds the walk along __index tables (inheritance chains).
const maxIndexChain = 16

// Complete lists what Tab offers for the text before the cursor: head is
// the part of before that stays, each candidate replaces the rest.
// It only reads tables (raw access, no metamethods run), so it is safe at
// any time; it must run on L's goroutine. names, when not nil, supplies
// namespace names for the string argument of ns.open and ns.inspect.
func Complete(L *lua.LState, names func() []string, before string) (head string, candidates []string) {
	pieces := splitLua(before)
	if len(pieces) > 0 {
		last := pieces[len(pieces)-1]
		if !last.closed {
			if last.kind == shortString {
				return completeNameArg(names, before, last)
			}
			return before, nil // inside a long string or comment
		}
		if last.kind != code {
			return before, nil
		}
	}
	return completeExpr(L, before)
}

// completeNameArg completes `ns.open("pre` with the namespace names that
// start with "pre", closing the quote.
func completeNameArg(names func() []string, before string, str piece) (string, []string) {
	head := before[:str.start+1]
	if names == nil || !nameArgCall.MatchString(before[:str.start]) {
		return before, nil
	}
	prefix, q := str.text[1:], str.text[:1]
	var out []string
	for _, n := range names() {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n+q)
		}
	}
	return head, sortUnique(out)
}

// completeExpr completes the dotted name that ends before: a global,
// a field after "a.b.", a method after "obj:".
func completeExpr(L *lua.LState, before string) (string, []string) {
	start := len(before)
	for start > 0 && (isIdentByte(before[start-1]) || before[start-1] == '.' || before[start-1] == ':') {
		start--
	}
	path := before[start:]
	if i := strings.LastIndex(path, ".."); i >= 0 {
		// "a..b" is a concatenation: complete b on its own.
		start += i + 2
		path = before[start:]
	}
	sepAt := strings.LastIndexAny(path, ".:")
	prefix := path[sepAt+1:]
	head := before[:len(before)-len(prefix)]
	if prefix != "" && prefix[0] >= '0' && prefix[0] <= '9' {
		return before, nil // a number
	}
	if sepAt < 0 {
		return head, globalCandidates(L, prefix)
	}
	owner := path[:sepAt]
	if owner == "" || strings.ContainsAny(owner, ":") {
		// "f().x" and "t[1].x" (owner "") would need code to run to know
		// what they are; ":" can only be the last step.
		return before, nil
	}
	obj := resolve(L, strings.Split(owner, "."))
	if obj == lua.LNil {
		return before, nil
	}
	methods := path[sepAt] == ':'
	return head, memberCandidates(L, obj, prefix, methods)
}

// resolve looks up a dotted path from the globals without running any
// metamethod; LNil when some step is unknown.
func resolve(L *lua.LState, parts []string) lua.LValue {
	var v lua.LValue = L.G.Global
	for _, part := range parts {
		if !isIdentifier(part) {
			return lua.LNil
		}
		v = rawIndex(L, v, part)
		if v == lua.LNil {
			return lua.LNil
		}
	}
	return v
}

// rawIndex is v[key] through tables and __index tables only.
func rawIndex(L *lua.LState, v lua.LValue, key string) lua.LValue {
	for range maxIndexChain {
		if t, ok := v.(*lua.LTable); ok {
			if got := t.RawGetString(key); got != lua.LNil {
				return got
			}
		}
		next := indexTable(L, v)
		if next == nil {
			return lua.LNil
		}
		v = next
	}
	return lua.LNil
}

// indexTable is getmetatable(v).__index when that is a table: where
// userdata keep their methods, and how table "classes" inherit.
func indexTable(L *lua.LState, v lua.LValue) *lua.LTable {
	mt, ok := L.GetMetatable(v).(*lua.LTable)
	if !ok {
		return nil
	}
	idx, _ := mt.RawGetString("__index").(*lua.LTable)
	return idx
}

// memberCandidates lists the members of obj that start with prefix; only
// functions when methods is set. Members are the keys of obj itself and
// of its __index chain (tables), and what a metatable declares in
// __methods (a table of functions) and __fields (a list of names), which
// is how userdata whose __index is a function make themselves known.
// Keys starting with "__" (metamethods kept in a class table) show only
// when asked for.
func memberCandidates(L *lua.LState, obj lua.LValue, prefix string, methods bool) []string {
	var out []string
	v := obj
	seen := map[*lua.LTable]bool{}
	for range maxIndexChain {
		if t, ok := v.(*lua.LTable); ok && !seen[t] {
			seen[t] = true
			out = append(out, matchingKeys(t, prefix, methods)...)
		}
		mt, ok := L.GetMetatable(v).(*lua.LTable)
		if !ok {
			break
		}
		if m, ok := mt.RawGetString("__methods").(*lua.LTable); ok {
			out = append(out, matchingKeys(m, prefix, methods)...)
		}
		if f, ok := mt.RawGetString("__fields").(*lua.LTable); ok && !methods {
			out = append(out, matchingNames(f, prefix)...)
		}
		next, ok := mt.RawGetString("__index").(*lua.LTable)
		if !ok {
			break
		}
		v = next
	}
	return sortUnique(out)
}

// matchingNames lists the strings in the array t that start with prefix.
func matchingNames(t *lua.LTable, prefix string) []string {
	var out []string
	for i := 1; i <= t.Len(); i++ {
		if s, ok := t.RawGetInt(i).(lua.LString); ok && isIdentifier(string(s)) && strings.HasPrefix(string(s), prefix) {
			out = append(out, string(s))
		}
	}
	return out
}

func matchingKeys(t *lua.LTable, prefix string, methods bool) []string {
	var out []string
	t.ForEach(func(k, v lua.LValue) {
		s, ok := k.(lua.LString)
		name := string(s)
		if !ok || !isIdentifier(name) || !strings.HasPrefix(name, prefix) {
			return
		}
		if strings.HasPrefix(name, "__") && !strings.HasPrefix(prefix, "__") {
			return
		}
		if _, isFn := v.(*lua.LFunction); methods && !isFn {
			return
		}
		out = append(out, name)
	})
	return out
}

// globalCandidates lists globals and keywords starting with prefix.
func globalCandidates(L *lua.LState, prefix string) []string {
	out := memberCandidates(L, L.G.Global, prefix, false)
	for _, k := range keywords {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return sortUnique(out)
}

func sortUnique(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

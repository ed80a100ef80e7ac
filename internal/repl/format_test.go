package repl

import (
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// eval runs a Lua expression on L and returns its value.
func eval(t *testing.T, L *lua.LState, expr string) lua.LValue {
	t.Helper()
	if err := L.DoString("return " + expr); err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	v := L.Get(-1)
	L.Pop(1)
	return v
}

func TestFormat(t *testing.T) {
	L := newTestLua()
	defer L.Close()
	for _, tc := range []struct{ expr, want string }{
		{`"raw text"`, "raw text"},
		{`42`, "42"},
		{`0.5`, "0.5"},
		{`true`, "true"},
		{`nil`, "nil"},
		{`{}`, "{}"},
		{`{1, 2, 3}`, "{ 1, 2, 3 }"},
		// Array part first, then numbers, strings (identifiers bare), booleans.
		{`{"a", zeta = 1, alpha = 2, [10] = "ten", [-1] = 0, ["with space"] = 3, [true] = 4, ["end"] = 5}`,
			"{\n  \"a\",\n  [-1] = 0,\n  [10] = \"ten\",\n  alpha = 2,\n  [\"end\"] = 5,\n  [\"with space\"] = 3,\n  zeta = 1,\n  [true] = 4\n}"},
		{`{b = 1, a = 2, [2] = "x", [1] = "y"}`, `{ "y", "x", a = 2, b = 1 }`},
		{`{s = "tab\tquote\"nl\nbell\a9"}`, `{ s = "tab\tquote\"nl\nbell\0079" }`},
		{`{n = ns.add("lab1")}`, "{ n = Netns(lab1) }"},
		{`setmetatable({}, {__tostring = function(t) return "custom " .. #t end})`, "custom 0"},
		{`setmetatable({}, {__tostring = function() error("bad") end})`, "(__tostring failed: "},
		{`{a = {b = {c = {d = {e = {f = {g = {}}}}}}}}`, "{ a = { b = { c = { d = { e = { f = {...} } } } } } }"},
		{`{a = {b = {c = {d = {e = {f = {}}}}}}}`, "{ a = { b = { c = { d = { e = { f = {} } } } } } }"},
	} {
		got := FormatL(L, eval(t, L, tc.expr))
		if !strings.Contains(got, tc.want) || (!strings.HasPrefix(tc.want, "(") && got != tc.want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.expr, got, tc.want)
		}
	}
}

func TestFormatNestedMultiLine(t *testing.T) {
	L := newTestLua()
	defer L.Close()
	v := eval(t, L, `{
		name = "lab1",
		links = {
			{name = "veth0", addrs = {"10.0.0.1/24", "fd00::1/64"}, state = "up", mtu = 1500},
			{name = "lo", addrs = {"127.0.0.1/8"}, state = "up", mtu = 65536},
		},
		sysctl = {["net.ipv4.ip_forward"] = 1},
	}`)
	want := `{
  links = {
    {
      addrs = { "10.0.0.1/24", "fd00::1/64" },
      mtu = 1500,
      name = "veth0",
      state = "up"
    },
    { addrs = { "127.0.0.1/8" }, mtu = 65536, name = "lo", state = "up" }
  },
  name = "lab1",
  sysctl = { ["net.ipv4.ip_forward"] = 1 }
}`
	if got := FormatL(L, v); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFormatCycles(t *testing.T) {
	L := newTestLua()
	defer L.Close()
	v := eval(t, L, `(function()
		local t = {name = "root", list = {1, 2}}
		t.self = t
		t.child = {parent = t}
		t.shared1 = t.list -- seen twice, but not a cycle
		return t
	end)()`)
	tbl := v.(*lua.LTable)
	cycle := "<cycle " + tbl.String() + ">"
	want := fmt.Sprintf("{\n  child = { parent = %s },\n  list = { 1, 2 },\n  name = \"root\",\n  self = %s,\n  shared1 = { 1, 2 }\n}", cycle, cycle)
	if got := FormatL(L, v); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFormatManyItems(t *testing.T) {
	L := newTestLua()
	defer L.Close()
	got := FormatL(L, eval(t, L, `(function() local t = {} for i = 1, 250 do t[i] = i end return t end)()`))
	if !strings.Contains(got, "\n  200,\n  ... (50 more)\n}") || strings.Contains(got, "201") {
		t.Errorf("250 items not capped at %d: ...%s", maxItems, got[len(got)-60:])
	}
}

// Format, without an LState, still runs Go and Lua __tostring metamethods.
func TestFormatWithoutState(t *testing.T) {
	L := newTestLua()
	defer L.Close()
	v := eval(t, L, `{ns.add("x"), setmetatable({}, {__tostring = function() return ("lua"):upper() end})}`)
	if got, want := Format(v), "{ Netns(x), LUA }"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
}

package luabind

import (
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// A lab test is a function the `nslua test` runner calls in a fresh lab of
// its own: registered with ns.test(name, fn), or a global test_* function.
type Test struct {
	Name string
	Fn   *lua.LFunction
}

// failKey marks the table the expect library raises for a failed
// expectation, so that a runner tells it from any other error.
const failKey = "nslua_fail"

func (rt *Runtime) testFuncs() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{"test": rt.nsTest, "skip": rt.nsSkip, "prefix": rt.nsPrefix}
}

func (rt *Runtime) nsTest(L *lua.LState) int {
	c := newCall(L, "ns.test", 2)
	name := c.str(1, "name")
	if name == "" || strings.ContainsAny(name, "\n\x00") {
		c.raise("argument #1 (name) must be one line of text, got %s", quote(name))
	}
	fn, ok := L.Get(2).(*lua.LFunction)
	if !ok {
		c.bad(2, "fn", "a function", L.Get(2))
	}
	for _, t := range rt.tests {
		if t.Name == name {
			c.raise("a test named %s is already registered", quote(name))
		}
	}
	rt.tests = append(rt.tests, Test{Name: name, Fn: fn})
	return 0
}

// nsSkip raises an ordinary error that names ns.skip, and remembers it, so
// that the runner knows this very error for a skip.
func (rt *Runtime) nsSkip(L *lua.LState) int {
	c := newCall(L, "ns.skip", 1)
	reason := c.str(1, "reason")
	rt.skipped = skipped{msg: "ns.skip: " + reason, reason: reason}
	L.RaiseError("%s", rt.skipped.msg)
	return 0
}

type skipped struct{ msg, reason string }

func (rt *Runtime) nsPrefix(L *lua.LState) int {
	newCall(L, "ns.prefix", 0)
	L.Push(lua.LString(rt.NamePrefix))
	return 1
}

// Tests lists the tests a loaded file defined: those of ns.test in their
// order, then the global test_* functions sorted by name.
func (rt *Runtime) Tests(L *lua.LState) []Test {
	tests := append([]Test(nil), rt.tests...)
	var globals []Test
	L.G.Global.ForEach(func(k, v lua.LValue) {
		name, isStr := k.(lua.LString)
		fn, isFn := v.(*lua.LFunction)
		if isStr && isFn && strings.HasPrefix(string(name), "test_") {
			globals = append(globals, Test{Name: string(name), Fn: fn})
		}
	})
	sort.Slice(globals, func(i, j int) bool { return globals[i].Name < globals[j].Name })
	return append(tests, globals...)
}

// Marked reports whether err was raised by ns.skip ("skip", with the
// reason) or by a failed expectation of the expect library ("fail", with
// its message); any other error is for the caller to describe.
func (rt *Runtime) Marked(err error) (status, message string, ok bool) {
	var obj lua.LValue
	if ae, isAPI := err.(*lua.ApiError); isAPI {
		obj = ae.Object
	}
	if s, isStr := obj.(lua.LString); isStr && rt.skipped.msg != "" && strings.HasSuffix(string(s), rt.skipped.msg) {
		return "skip", rt.skipped.reason, true
	}
	t, isTable := obj.(*lua.LTable)
	if !isTable {
		return "", "", false
	}
	if m, isStr := t.RawGetString(failKey).(lua.LString); isStr {
		return "fail", string(m), true
	}
	return "", "", false
}

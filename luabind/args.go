package luabind

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// call checks the arguments of one Lua-facing function, and raises errors
// that name that function, so that every misuse reads the same way:
// `ns.add: argument #1 (name) must be a string, got nil`.
type call struct {
	L  *lua.LState
	fn string
}

func newCall(L *lua.LState, fn string, maxArgs int) call {
	c := call{L, fn}
	if n := L.GetTop(); n > maxArgs {
		c.raise("takes at most %d argument(s), got %d", maxArgs, n)
	}
	return c
}

func (c call) raise(format string, args ...any) {
	c.L.RaiseError("%s: %s", c.fn, fmt.Sprintf(format, args...))
}

// check raises err, if any, prefixed by the function's name.
func (c call) check(err error) {
	if err != nil {
		c.raise("%s", err.Error())
	}
}

func (c call) bad(i int, what, want string, got lua.LValue) {
	c.raise("argument #%d (%s) must be %s, got %s", i, what, want, typeName(got))
}

func typeName(v lua.LValue) string {
	if ud, ok := v.(*lua.LUserData); ok {
		if mt, ok := ud.Metatable.(*lua.LTable); ok {
			if name, ok := mt.RawGetString("__name").(lua.LString); ok {
				return string(name)
			}
		}
	}
	return v.Type().String()
}

func (c call) str(i int, what string) string {
	v := c.L.Get(i)
	s, ok := v.(lua.LString)
	if !ok {
		c.bad(i, what, "a string", v)
	}
	return string(s)
}

func (c call) optStr(i int, what string) (string, bool) {
	if c.L.Get(i) == lua.LNil {
		return "", false
	}
	return c.str(i, what), true
}

func (c call) optTable(i int, what string) *lua.LTable {
	v := c.L.Get(i)
	if v == lua.LNil {
		return nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		c.bad(i, what, "a table", v)
	}
	return t
}

func (c call) num(i int, what string) float64 {
	v := c.L.Get(i)
	n, ok := v.(lua.LNumber)
	if !ok {
		c.bad(i, what, "a number", v)
	}
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		c.raise("argument #%d (%s) must be a finite number", i, what)
	}
	return float64(n)
}

func (c call) seconds(v float64, what string) time.Duration {
	if v < 0 || v > 365*24*3600 {
		c.raise("%s %v is out of range (0 to a year, in seconds)", what, v)
	}
	return time.Duration(v * float64(time.Second))
}

// opts reads an options table, refusing unknown keys: a typo such as
// `exsit_ok` must not be silently ignored.
type opts struct {
	c   call
	i   int
	t   *lua.LTable
	fns string
}

func (c call) opts(i int, allowed ...string) opts {
	t := c.optTable(i, "options")
	o := opts{c: c, i: i, t: t}
	if t == nil {
		return o
	}
	sort.Strings(allowed)
	t.ForEach(func(k, _ lua.LValue) {
		ks, ok := k.(lua.LString)
		if !ok {
			c.raise("options must be a table with string keys, got key %s", lua.LVAsString(k))
		}
		j := sort.SearchStrings(allowed, string(ks))
		if j >= len(allowed) || allowed[j] != string(ks) {
			c.raise("unknown option %q (known: %s)", string(ks), strings.Join(allowed, ", "))
		}
	})
	return o
}

func (o opts) get(key string) lua.LValue {
	if o.t == nil {
		return lua.LNil
	}
	return o.t.RawGetString(key)
}

func (o opts) badOpt(key, want string, got lua.LValue) {
	o.c.raise("option %s must be %s, got %s", key, want, typeName(got))
}

func (o opts) str(key string) (string, bool) {
	v := o.get(key)
	if v == lua.LNil {
		return "", false
	}
	s, ok := v.(lua.LString)
	if !ok {
		o.badOpt(key, "a string", v)
	}
	return string(s), true
}

func (o opts) boolean(key string) (bool, bool) {
	v := o.get(key)
	if v == lua.LNil {
		return false, false
	}
	b, ok := v.(lua.LBool)
	if !ok {
		o.badOpt(key, "a boolean", v)
	}
	return bool(b), true
}

func (o opts) num(key string) (float64, bool) {
	v := o.get(key)
	if v == lua.LNil {
		return 0, false
	}
	n, ok := v.(lua.LNumber)
	if !ok || math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		o.badOpt(key, "a finite number", v)
	}
	return float64(n), true
}

func (o opts) integer(key string, lo, hi int) (int, bool) {
	f, ok := o.num(key)
	if !ok {
		return 0, false
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		o.c.raise("option %s must be a whole number from %d to %d, got %v", key, lo, hi, f)
	}
	return int(f), true
}

func (o opts) seconds(key string) (time.Duration, bool) {
	f, ok := o.num(key)
	if !ok {
		return 0, false
	}
	return o.c.seconds(f, "option "+key), true
}

// strList accepts one string or a list of strings.
func (o opts) strList(key string) []string {
	v := o.get(key)
	switch v := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LString:
		return []string{string(v)}
	case *lua.LTable:
		return o.c.stringList(v, "option "+key)
	}
	o.badOpt(key, "a string or a list of strings", v)
	return nil
}

// stringMap reads a table of string keys to string (or number) values.
func (o opts) stringMap(key string) map[string]string {
	v := o.get(key)
	if v == lua.LNil {
		return nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		o.badOpt(key, "a table", v)
	}
	out := map[string]string{}
	t.ForEach(func(k, val lua.LValue) {
		ks, ok := k.(lua.LString)
		if !ok {
			o.c.raise("option %s: keys must be strings, got %s", key, typeName(k))
		}
		out[string(ks)] = o.c.scalar(val, fmt.Sprintf("option %s[%q]", key, string(ks)))
	})
	return out
}

// scalar turns a string, number or boolean into text (sysctl values,
// argv items); anything else raises.
func (c call) scalar(v lua.LValue, what string) string {
	switch v := v.(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	case lua.LBool:
		if v {
			return "1"
		}
		return "0"
	}
	c.raise("%s must be a string or a number, got %s", what, typeName(v))
	return ""
}

func (c call) stringList(t *lua.LTable, what string) []string {
	n := t.Len()
	out := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		v := t.RawGetInt(i)
		switch v := v.(type) {
		case lua.LString:
			out = append(out, string(v))
		case lua.LNumber:
			out = append(out, v.String())
		default:
			c.raise("%s[%d] must be a string, got %s", what, i, typeName(v))
		}
	}
	extra := 0
	t.ForEach(func(k, _ lua.LValue) { extra++ })
	if extra != n {
		c.raise("%s must be a list (keys 1..n), not a table with other keys", what)
	}
	return out
}

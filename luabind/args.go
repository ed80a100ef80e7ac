package luabind

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// call checks the arguments of one Lua-facing function, and raises errors
// that name that function, so that every misuse reads the same way:
// `ns.add: argument #1 (name) must be a string, got nil`.
type call struct {
	L    *lua.LState
	fn   string
	self int // 1 for a method: stack slot 1 is the object, not argument #1
}

func newCall(L *lua.LState, fn string, maxArgs int) call {
	c := call{L: L, fn: fn}
	if n := L.GetTop(); n > maxArgs {
		c.raise("takes at most %d argument(s), got %d", maxArgs, n)
	}
	return c
}

// newMethodCall is newCall for obj:method(...): errors number the
// arguments as the script wrote them, after the object.
func newMethodCall(L *lua.LState, fn string, maxArgs int) call {
	c := call{L: L, fn: fn, self: 1}
	if n := L.GetTop() - 1; n > maxArgs {
		c.raise("takes at most %d argument(s), got %d", maxArgs, n)
	}
	return c
}

// arg is how the script numbers stack slot i.
func (c call) arg(i int) int { return i - c.self }

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
	c.raise("argument #%d (%s) must be %s, got %s", c.arg(i), what, want, typeName(got))
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

// maxName bounds names and paths: the longest the kernel takes is a path
// (PATH_MAX), and a megabyte "name" would otherwise end up in every error.
const maxName = 4096

// checkName refuses what no namespace, interface, file or sysctl name
// should hold: bytes that are not UTF-8 (they would come out mangled in
// inspect's JSON and in ip's output), NUL, and absurd lengths.
func checkName(s string) error {
	switch {
	case len(s) > maxName:
		return fmt.Errorf("is %d bytes long, the limit is %d", len(s), maxName)
	case strings.ContainsRune(s, 0):
		return fmt.Errorf("contains a NUL byte")
	case !utf8.ValidString(s):
		return fmt.Errorf("is not valid UTF-8 (%s)", quote(s))
	}
	return nil
}

// quote shows a string in an error, shortened when long.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// name reads a string argument that names something (a namespace, an
// interface, a path under /etc/netns, a sysctl key).
func (c call) name(i int, what string) string {
	s := c.str(i, what)
	if err := checkName(s); err != nil {
		c.raise("argument #%d (%s) %v", c.arg(i), what, err)
	}
	return s
}

func (c call) optName(i int, what string) (string, bool) {
	if c.L.Get(i) == lua.LNil {
		return "", false
	}
	return c.name(i, what), true
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
		c.raise("argument #%d (%s) must be a finite number, got %v", c.arg(i), what, n)
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
	c call
	i int
	t *lua.LTable
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

// name reads an option that names something; see call.name.
func (o opts) name(key string) (string, bool) {
	s, ok := o.str(key)
	if ok {
		if err := checkName(s); err != nil {
			o.c.raise("option %s %v", key, err)
		}
	}
	return s, ok
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
	if !ok {
		o.badOpt(key, "a finite number", v)
	}
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		o.c.raise("option %s must be a finite number, got %v", key, n)
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

// checkKey is checkName for a table key, which has no argument number.
func checkKey(what, key string) error {
	if err := checkName(key); err != nil {
		return fmt.Errorf("%s %v", what, err)
	}
	return nil
}

// logFile reads spawn's opts.log and keeps it inside the lab's state
// directory, the only place besides /run/netns and /etc/netns/NAME that
// nslua writes to: a relative path goes under LABDIR/logs, an absolute one
// must lie in LABDIR already. No "..", and no symlink on the way, so a
// log can never land on /etc/shadow.
func (rt *Runtime) logFile(c call, o opts) string {
	path, ok := o.name("log")
	if !ok {
		return ""
	}
	root := rt.Lab.Dir
	rel := filepath.Join("logs", path)
	if filepath.IsAbs(path) {
		var inside bool
		rel, inside = strings.CutPrefix(path, root+"/")
		if !inside {
			c.raise("option log %s is outside the lab's directory %s (give a file name, or a path inside it)", quote(path), root)
		}
	}
	for _, part := range strings.Split(rel, "/") {
		if part == "" || part == "." || part == ".." {
			c.raise("option log %s has an empty, . or .. component", quote(path))
		}
	}
	full := root
	for _, part := range strings.Split(rel, "/") {
		full = filepath.Join(full, part)
		st, err := os.Lstat(full)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err == nil && st.Mode()&os.ModeSymlink != 0 {
			c.raise("option log: %s is a symlink (refused: logs are never written through symlinks)", full)
		}
	}
	return filepath.Join(root, rel)
}

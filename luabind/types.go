package luabind

import (
	"sort"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
)

// Type names, also what a wrong-type error calls the value.
const (
	typeNetns = "Netns"
	typeLink  = "Link"
	typeProc  = "Proc"
)

// fieldFn reads one field of an object.
type fieldFn func(rt *Runtime, L *lua.LState, v any) lua.LValue

// registerType builds a metatable: __index serves fields first, then
// methods; __methods and __fields let the REPL complete them.
func (rt *Runtime) registerType(L *lua.LState, name string, fields map[string]fieldFn, methods map[string]lua.LGFunction, eq lua.LGFunction) {
	mt := L.NewTypeMetatable(name)
	mt.RawSetString("__name", lua.LString(name))
	mtab := L.SetFuncs(L.NewTable(), methods)
	mt.RawSetString("__methods", mtab)
	ftab := L.NewTable()
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ftab.Append(lua.LString(k))
	}
	mt.RawSetString("__fields", ftab)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		ud := L.CheckUserData(1)
		key, ok := L.Get(2).(lua.LString)
		if !ok { // obj[1], obj[{}]: nothing there, as for a table
			L.Push(lua.LNil)
			return 1
		}
		if f := fields[string(key)]; f != nil {
			L.Push(f(rt, L, ud.Value))
			return 1
		}
		L.Push(mtab.RawGetString(string(key)))
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s objects are read-only (tried to set %s)", name, L.Get(2).String())
		return 0
	}))
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		ud := L.CheckUserData(1)
		if s, ok := ud.Value.(interface{ String() string }); ok {
			L.Push(lua.LString(s.String()))
		} else {
			L.Push(lua.LString(name))
		}
		return 1
	}))
	if eq != nil {
		mt.RawSetString("__eq", L.NewFunction(eq))
	}
}

func (rt *Runtime) registerTypes(L *lua.LState) {
	rt.registerType(L, typeNetns, netnsFields, rt.netnsMethods(), eqBy(func(v any) any {
		return v.(*lab.Netns).Inode
	}))
	rt.registerType(L, typeLink, linkFields, rt.linkMethods(), eqBy(func(v any) any {
		k := v.(*lab.Link)
		return [2]any{k.NS.Inode, k.Index}
	}))
	rt.registerType(L, typeProc, procFields, rt.procMethods(), nil)
}

func eqBy(key func(any) any) lua.LGFunction {
	return func(L *lua.LState) int {
		a, aok := L.Get(1).(*lua.LUserData)
		b, bok := L.Get(2).(*lua.LUserData)
		L.Push(lua.LBool(aok && bok && sameType(a, b) && key(a.Value) == key(b.Value)))
		return 1
	}
}

func sameType(a, b *lua.LUserData) bool {
	switch a.Value.(type) {
	case *lab.Netns:
		_, ok := b.Value.(*lab.Netns)
		return ok
	case *lab.Link:
		_, ok := b.Value.(*lab.Link)
		return ok
	}
	return false
}

func (rt *Runtime) newUD(L *lua.LState, typ string, v any) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = v
	L.SetMetatable(ud, L.GetTypeMetatable(typ))
	return ud
}

func (rt *Runtime) pushNetns(L *lua.LState, n *lab.Netns) *lua.LUserData {
	if ud := rt.netnsUD[n]; ud != nil {
		return ud
	}
	ud := rt.newUD(L, typeNetns, n)
	rt.netnsUD[n] = ud
	return ud
}

func (rt *Runtime) pushLink(L *lua.LState, k *lab.Link) *lua.LUserData {
	return rt.newUD(L, typeLink, k)
}

// self returns the object a method was called on, raising a clear error
// for `n.exec(...)` (dot instead of colon) and other misuse.
func self[T any](c call, typ string) T {
	ud, ok := c.L.Get(1).(*lua.LUserData)
	var zero T
	if !ok {
		c.raise("must be called as a method on a %s (obj:method(...)), got %s as self", typ, typeName(c.L.Get(1)))
		return zero
	}
	v, ok := ud.Value.(T)
	if !ok {
		c.raise("must be called on a %s, got %s", typ, typeName(ud))
	}
	return v
}

// netnsValue reads a Netns argument (an object, or the name of a pinned
// namespace for convenience).
func (rt *Runtime) netnsValue(c call, v lua.LValue, what string) *lab.Netns {
	switch v := v.(type) {
	case *lua.LUserData:
		if n, ok := v.Value.(*lab.Netns); ok {
			return n
		}
	case lua.LString:
		if err := checkName(string(v)); err != nil {
			c.raise("%s %v", what, err)
		}
		n, err := rt.Lab.Open(string(v))
		c.check(err)
		return n
	}
	c.raise("%s must be a Netns (or a namespace name), got %s", what, typeName(v))
	return nil
}

func (rt *Runtime) linkValue(c call, v lua.LValue, what string) *lab.Link {
	if ud, ok := v.(*lua.LUserData); ok {
		if k, ok := ud.Value.(*lab.Link); ok {
			return k
		}
	}
	c.raise("%s must be a Link, got %s", what, typeName(v))
	return nil
}

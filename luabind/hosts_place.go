package luabind

import (
	lua "github.com/yuin/gopher-lua"
)

// placement picks the host of an ns.add that names none.
type placement struct {
	spread bool
	fn     *lua.LFunction
	n      int // namespaces placed so far
}

// nsPlace is ns.place("spread" | fn | nil).
func (rt *Runtime) nsPlace(L *lua.LState) int {
	c := newCall(L, "ns.place", 1)
	hs := rt.hostSet()
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
		hs.place = placement{}
	case lua.LString:
		if v != "spread" {
			c.raise("argument #1 must be \"spread\", a function(name, i) -> host, or nil, got %s", quote(string(v)))
		}
		hs.place = placement{spread: true}
	case *lua.LFunction:
		hs.place = placement{fn: v}
	default:
		c.bad(1, "how", "\"spread\", a function(name, i) -> host, or nil", v)
	}
	return 0
}

// placeHost is the host for namespace name ("" = no placement: here).
func (hs *hostSet) placeHost(c call, name string) string {
	p := &hs.place
	switch {
	case p.spread:
		names := hs.names()
		p.n++
		return names[(p.n-1)%len(names)]
	case p.fn != nil:
		p.n++
		L := c.L
		L.Push(p.fn)
		L.Push(lua.LString(name))
		L.Push(lua.LNumber(p.n))
		L.Call(2, 1)
		v := L.Get(-1)
		L.Pop(1)
		switch v := v.(type) {
		case lua.LString:
			return string(v)
		case *lua.LNilType:
			return LocalHost
		}
		c.raise("the ns.place function gave %s for %s, want a host name", typeName(v), quote(name))
	}
	return ""
}

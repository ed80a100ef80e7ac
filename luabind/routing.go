package luabind

import (
	"sort"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
)

func (rt *Runtime) netnsRule(L *lua.LState) int {
	c, n := rt.method(L, "rule", 1)
	if _, ok := L.Get(2).(*lua.LTable); !ok {
		c.bad(2, "rule", "a table {from=, to=, iif=, oif=, table=, priority=}", L.Get(2))
	}
	o := c.opts(2, "from", "to", "iif", "oif", "table", "priority", "fwmark")
	var r lab.Rule
	var ok bool
	if r.Table, ok = o.integer("table", 1, 1<<32-1); !ok {
		c.raise("option table is required (the routing table to look up)")
	}
	r.From, _ = o.name("from")
	r.To, _ = o.name("to")
	r.Iif, _ = o.name("iif")
	r.Oif, _ = o.name("oif")
	r.Priority, _ = o.integer("priority", 1, 1<<32-1)
	r.Mark, _ = o.integer("fwmark", 1, 1<<32-1)
	c.check(n.AddRule(r))
	return 0
}

func (rt *Runtime) netnsMasquerade(L *lua.LState) int {
	c, n := rt.method(L, "masquerade", 2)
	out := rt.parentValue(c, n, 2)
	o := c.opts(3, "source")
	source, _ := o.name("source")
	c.check(n.Masquerade(out, source))
	return 0
}

func (rt *Runtime) netnsForward(L *lua.LState) int {
	c, n := rt.method(L, "forward", 1)
	if _, ok := L.Get(2).(*lua.LTable); !ok {
		c.bad(2, "forward", "a table {proto=, port=, to=}", L.Get(2))
	}
	o := c.opts(2, "proto", "port", "to", "iif")
	var f lab.Forward
	var ok bool
	f.Proto, _ = o.name("proto")
	if f.Port, ok = o.integer("port", 1, 65535); !ok {
		c.raise("option port is required")
	}
	if f.To, ok = o.name("to"); !ok {
		c.raise("option to is required (\"10.0.1.2:80\")")
	}
	f.Iif, _ = o.name("iif")
	c.check(n.AddForward(f))
	return 0
}

func (rt *Runtime) linkOffload(L *lua.LState) int {
	c, k := linkMethod(L, "offload", 1)
	if L.GetTop() >= 2 {
		o := c.opts(2, lab.OffloadNames()...)
		want := map[string]bool{}
		for _, key := range lab.OffloadNames() {
			if v, ok := o.boolean(key); ok {
				want[key] = v
			}
		}
		c.check(k.SetOffload(want))
	}
	state, err := k.Offload()
	c.check(err)
	keys := make([]string, 0, len(state))
	for key := range state {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	t := L.NewTable()
	for _, key := range keys {
		t.RawSetString(key, lua.LBool(state[key]))
	}
	L.Push(t)
	return 1
}

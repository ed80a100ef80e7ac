package luabind

import (
	"encoding/json"
	"sort"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/inspect"
	"github.com/nslua/nslua/internal/lab"
)

func (rt *Runtime) inspectOpts() inspect.Options {
	return inspect.Options{Owner: rt.Lab.Owner, Private: inspect.PrivateFrom(lab.Privates)}
}

func (rt *Runtime) inspectNetns(n *lab.Netns) (*inspect.Info, error) {
	if n.IsHost() {
		return inspect.Host(rt.inspectOpts())
	}
	return inspect.Namespace(n.Name, n.Path, rt.inspectOpts())
}

func (rt *Runtime) netnsInspect(L *lua.LState) int {
	c, n := rt.method(L, "inspect", 0)
	info, err := rt.inspectNetns(n)
	c.check(err)
	L.Push(toLua(L, info))
	return 1
}

func (rt *Runtime) nsInspect(L *lua.LState) int {
	c := newCall(L, "ns.inspect", 1)
	if name, ok := c.optName(1, "name"); ok {
		n, err := rt.Lab.Open(name)
		c.check(err)
		info, err := rt.inspectNetns(n)
		c.check(err)
		L.Push(toLua(L, info))
		return 1
	}
	infos, err := inspect.All(rt.inspectOpts())
	c.check(err)
	t := L.NewTable()
	for _, info := range infos {
		t.RawSetString(info.Name, toLua(L, info))
	}
	L.Push(t)
	return 1
}

func (rt *Runtime) linkInfo(L *lua.LState) int {
	c, k := linkMethod(L, "info", 0)
	info, err := rt.inspectNetns(k.NS)
	c.check(err)
	for _, li := range info.Links {
		if li.Index == k.Index {
			L.Push(toLua(L, li))
			return 1
		}
	}
	c.raise("link %s is gone from %s", k.Name, k.NS.Name)
	return 0
}

// toLua converts a JSON-shaped Go value into Lua tables, so the Lua view
// and `nslua inspect --json` have the very same field names.
func toLua(L *lua.LState, v any) lua.LValue {
	data, err := json.Marshal(v)
	if err != nil {
		L.RaiseError("inspect: %v", err)
	}
	var generic any
	json.Unmarshal(data, &generic)
	return fromJSON(L, generic)
}

func fromJSON(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		t := L.CreateTable(len(v), 0)
		for _, e := range v {
			t.Append(fromJSON(L, e))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(v))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.RawSetString(k, fromJSON(L, v[k]))
		}
		return t
	}
	return lua.LNil
}

package luabind

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/remote"
)

// proxy is a Netns, Link or Proc of another host: its methods are sent
// to that host's agent, which calls them on the real object there.
type proxy struct {
	host    string
	id      int // the handle on that host
	typ     string
	label   string // tostring of the real object
	name    string // its name, for error messages
	fields  map[string]bool
	methods map[string]bool
}

func (p *proxy) String() string { return p.label }

func proxyOf(v lua.LValue) *proxy {
	if ud, ok := v.(*lua.LUserData); ok {
		if p, ok := ud.Value.(*proxy); ok {
			return p
		}
	}
	return nil
}

// codecOn is how values cross to host and back on L: objects of host go
// as their handles, any other object is refused.
func (hs *hostSet) codecOn(L *lua.LState, host string) codec {
	return codec{
		object: func(ud *lua.LUserData) (remote.Value, error) {
			p, ok := ud.Value.(*proxy)
			switch {
			case ok && p.host == host:
				return remote.Value{T: "h", H: p.id}, nil
			case ok:
				return remote.Value{}, fmt.Errorf("an object of host %s (%s)", p.host, p.label)
			}
			return remote.Value{}, fmt.Errorf("an object of host %s (%s)", LocalHost, labelOf(ud))
		},
		handle: func(v remote.Value) (lua.LValue, error) {
			if L == nil {
				return nil, fmt.Errorf("an object where none was expected")
			}
			return hs.proxyFor(L, host, v), nil
		},
	}
}

func labelOf(ud *lua.LUserData) string {
	if s, ok := ud.Value.(fmt.Stringer); ok {
		return s.String()
	}
	return typeName(ud)
}

// proxyFor is the one proxy of handle v of host.
func (hs *hostSet) proxyFor(L *lua.LState, host string, v remote.Value) *lua.LUserData {
	byID := hs.proxies[host]
	if byID == nil {
		byID = map[int]*lua.LUserData{}
		hs.proxies[host] = byID
	}
	if ud := byID[v.H]; ud != nil {
		return ud
	}
	p := &proxy{host: host, id: v.H, typ: v.Type, label: v.Label, name: v.Name, fields: map[string]bool{}, methods: map[string]bool{}}
	for _, f := range v.Fields {
		p.fields[f] = true
	}
	for _, m := range v.Methods {
		p.methods[m] = true
	}
	ud := L.NewUserData()
	ud.Value = p
	L.SetMetatable(ud, hs.meta(L, v))
	byID[v.H] = ud
	return ud
}

// meta is the metatable of proxies of one type: fields read from the
// host, methods sent there; __methods and __fields for the REPL.
func (hs *hostSet) meta(L *lua.LState, v remote.Value) *lua.LTable {
	if mt := hs.metas[v.Type]; mt != nil {
		return mt
	}
	mt := L.NewTable()
	mt.RawSetString("__name", lua.LString(v.Type))
	mtab, ftab := L.NewTable(), L.NewTable()
	for _, m := range v.Methods {
		mtab.RawSetString(m, hs.method(L, m))
	}
	for _, f := range v.Fields {
		ftab.Append(lua.LString(f))
	}
	mt.RawSetString("__methods", mtab)
	mt.RawSetString("__fields", ftab)
	mt.RawSetString("__index", L.NewFunction(hs.index))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s objects are read-only (tried to set %s)", v.Type, L.Get(2).String())
		return 0
	}))
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(proxyOf(L.Get(1)).label))
		return 1
	}))
	mt.RawSetString("__eq", L.NewFunction(func(L *lua.LState) int {
		a, b := proxyOf(L.Get(1)), proxyOf(L.Get(2))
		L.Push(lua.LBool(a != nil && b != nil && a.host == b.host && a.id == b.id))
		return 1
	}))
	hs.metas[v.Type] = mt
	return mt
}

func (hs *hostSet) index(L *lua.LState) int {
	p := proxyOf(L.Get(1))
	key, ok := L.Get(2).(lua.LString)
	switch {
	case p == nil || !ok:
		L.Push(lua.LNil)
	case key == "host" && p.typ == typeNetns: // the one field that differs from the real object's
		L.Push(lua.LString(p.host))
	case p.methods[string(key)]:
		L.Push(hs.method(L, string(key)))
	case p.fields[string(key)]:
		vals := hs.request(L, p.host, &remote.Msg{Op: remote.OpGet, Target: p.id, Method: string(key)})
		if len(vals) == 0 {
			L.Push(lua.LNil)
		} else {
			L.Push(vals[0])
		}
	default:
		L.Push(lua.LNil)
	}
	return 1
}

// method is the function that sends obj:name(...) to obj's host.
func (hs *hostSet) method(L *lua.LState, name string) *lua.LFunction {
	if fn := hs.methods[name]; fn != nil {
		return fn
	}
	fn := L.NewFunction(func(L *lua.LState) int {
		p := proxyOf(L.Get(1))
		if p == nil {
			L.RaiseError("%s must be called as a method (obj:%s(...)), got %s as self", name, name, typeName(L.Get(1)))
		}
		fnName := p.name + ":" + name
		if name == "veth" && crossHost(L.Get(3), p.host) {
			return hs.rt.crossVeth(L, fnName)
		}
		args := make([]lua.LValue, 0, L.GetTop()-1)
		for i := 2; i <= L.GetTop(); i++ {
			args = append(args, L.Get(i))
		}
		vals, err := hs.codecOn(L, p.host).encodeAll(args)
		if err != nil {
			L.RaiseError("%s: %v cannot be passed to a namespace on host %s", fnName, err, p.host)
		}
		res := hs.request(L, p.host, &remote.Msg{Op: remote.OpCall, Target: p.id, Method: name, Args: vals})
		for _, v := range res {
			L.Push(v)
		}
		return len(res)
	})
	hs.methods[name] = fn
	return fn
}

// crossHost reports whether peer, a veth's other namespace, lives on
// another host than host.
func crossHost(peer lua.LValue, host string) bool {
	ud, ok := peer.(*lua.LUserData)
	if !ok {
		return false
	}
	if p, ok := ud.Value.(*proxy); ok {
		return p.host != host
	}
	return host != LocalHost
}

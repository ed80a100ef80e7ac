package luabind

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
)

func (rt *Runtime) netnsWireguard(L *lua.LState) int {
	c, n, name := rt.kindCall(L, "wireguard", 2)
	o := c.opts(3, withCommon("private_key", "listen_port", "peers")...)
	var w lab.WgOptions
	w.PrivateKey, _ = o.name("private_key")
	w.ListenPort, _ = o.integer("listen_port", 1, 65535)
	switch v := o.get("peers").(type) {
	case *lua.LNilType:
	case *lua.LTable:
		for i := 1; i <= v.Len(); i++ {
			w.Peers = append(w.Peers, wgPeer(c, v.RawGetInt(i), i))
		}
	default:
		o.badOpt("peers", "a list of peer tables", v)
	}
	k, err := n.Wireguard(name, w, rt.linkOptions(c, o))
	c.check(err)
	L.Push(rt.pushLink(L, k))
	return 1
}

func wgPeer(c call, v lua.LValue, i int) lab.WgPeer {
	t, ok := v.(*lua.LTable)
	if !ok {
		c.raise("option peers[%d] must be a table, got %s", i, typeName(v))
	}
	// a peer table is read like an options table, named after its index
	pc := c
	pc.fn = fmt.Sprintf("%s: peers[%d]", c.fn, i)
	c.L.Push(t)
	o := pc.opts(c.L.GetTop(), "public_key", "preshared_key", "endpoint", "allowed_ips", "keepalive")
	c.L.Pop(1)
	var p lab.WgPeer
	var has bool
	if p.PublicKey, has = o.name("public_key"); !has {
		pc.raise("public_key is required")
	}
	p.PresharedKey, _ = o.name("preshared_key")
	p.Endpoint, _ = o.name("endpoint")
	p.AllowedIPs = o.strList("allowed_ips")
	p.Keepalive, _ = o.integer("keepalive", 0, 65535)
	return p
}

func (rt *Runtime) nsWgkey(L *lua.LState) int {
	c := newCall(L, "ns.wgkey", 0)
	priv, pub, err := lab.WgKey()
	c.check(err)
	t := L.NewTable()
	t.RawSetString("private", lua.LString(priv))
	t.RawSetString("public", lua.LString(pub))
	L.Push(t)
	return 1
}

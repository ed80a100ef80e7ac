package luabind

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
)

// commonLinkOpts are the options every link kind but veth and bridge takes.
var commonLinkOpts = []string{"addr", "mtu", "mac", "up", "netns"}

func withCommon(keys ...string) []string { return append(keys, commonLinkOpts...) }

func (rt *Runtime) linkOptions(c call, o opts) lab.LinkOptions {
	lo := lab.LinkOptions{Addr: o.strList("addr")}
	lo.MTU, _ = o.integer("mtu", 68, 65535)
	lo.MAC, _ = o.name("mac")
	if up, ok := o.boolean("up"); ok {
		lo.Down = !up
	}
	if v := o.get("netns"); v != lua.LNil {
		lo.In = rt.netnsValue(c, v, "option netns")
	}
	return lo
}

// kindCall starts n:KIND(name, ...): names the call after the link.
func (rt *Runtime) kindCall(L *lua.LState, kind string, maxArgs int) (call, *lab.Netns, string) {
	c, n := rt.method(L, kind, maxArgs)
	name := c.name(2, "name")
	c.fn = fmt.Sprintf("%s:%s(%q)", n.Name, kind, name)
	return c, n, name
}

// parentValue reads a parent link: a Link, or the name of one in n.
func (rt *Runtime) parentValue(c call, n *lab.Netns, i int) *lab.Link {
	v := c.L.Get(i)
	if s, ok := v.(lua.LString); ok {
		k, err := n.Link(string(s))
		c.check(err)
		return k
	}
	return rt.linkValue(c, v, fmt.Sprintf("argument #%d (parent)", c.arg(i)))
}

func (rt *Runtime) netnsMacvlan(L *lua.LState) int {
	c, n, name := rt.kindCall(L, "macvlan", 3)
	parent := rt.parentValue(c, n, 3)
	o := c.opts(4, withCommon("mode")...)
	mode, _ := o.name("mode")
	k, err := n.Macvlan(name, parent, mode, rt.linkOptions(c, o))
	c.check(err)
	L.Push(rt.pushLink(L, k))
	return 1
}

func (rt *Runtime) netnsVlan(L *lua.LState) int {
	c, n, name := rt.kindCall(L, "vlan", 4)
	parent := rt.parentValue(c, n, 3)
	id := c.num(4, "id")
	if id != float64(int(id)) {
		c.raise("argument #3 (id) must be a whole number, got %v", id)
	}
	o := c.opts(5, withCommon("protocol")...)
	proto, _ := o.name("protocol")
	k, err := n.Vlan(name, parent, int(id), proto, rt.linkOptions(c, o))
	c.check(err)
	L.Push(rt.pushLink(L, k))
	return 1
}

func (rt *Runtime) netnsVxlan(L *lua.LState) int {
	c, n, name := rt.kindCall(L, "vxlan", 2)
	if _, ok := L.Get(3).(*lua.LTable); !ok {
		c.bad(3, "opts", "a table with vni= and remote=, group= or remotes=", L.Get(3))
	}
	o := c.opts(3, withCommon("vni", "remote", "group", "local", "dev", "port", "learning", "remotes", "ttl")...)
	var v lab.VxlanOptions
	var ok bool
	if v.VNI, ok = o.integer("vni", 0, 1<<24-1); !ok {
		c.raise("option vni is required (the VXLAN network identifier, 0..16777215)")
	}
	v.Remote, _ = o.name("remote")
	v.Group, _ = o.name("group")
	v.Local, _ = o.name("local")
	v.Dev, _ = o.name("dev")
	v.Port, _ = o.integer("port", 1, 65535)
	v.TTL, _ = o.integer("ttl", 0, 255)
	if l, ok := o.boolean("learning"); ok {
		v.Learning = &l
	}
	v.Remotes = o.strList("remotes")
	k, err := n.Vxlan(name, v, rt.linkOptions(c, o))
	c.check(err)
	L.Push(rt.pushLink(L, k))
	return 1
}

func (rt *Runtime) netnsTuntap(L *lua.LState) int {
	c, n, name := rt.kindCall(L, "tuntap", 2)
	o := c.opts(3, withCommon("mode", "owner", "group")...)
	t := lab.TuntapOptions{Owner: -1, Group: -1}
	t.Mode, _ = o.name("mode")
	if v, ok := o.integer("owner", 0, 1<<32-2); ok {
		t.Owner = v
	}
	if v, ok := o.integer("group", 0, 1<<32-2); ok {
		t.Group = v
	}
	k, err := n.Tuntap(name, t, rt.linkOptions(c, o))
	c.check(err)
	L.Push(rt.pushLink(L, k))
	return 1
}

func (rt *Runtime) netnsDummy(L *lua.LState) int {
	c, n, name := rt.kindCall(L, "dummy", 2)
	o := c.opts(3, commonLinkOpts...)
	k, err := n.Dummy(name, rt.linkOptions(c, o))
	c.check(err)
	L.Push(rt.pushLink(L, k))
	return 1
}

func (rt *Runtime) netnsVrf(L *lua.LState) int {
	c, n, name := rt.kindCall(L, "vrf", 3)
	table := c.num(3, "table")
	if table != float64(int(table)) {
		c.raise("argument #2 (table) must be a whole number, got %v", table)
	}
	o := c.opts(4, commonLinkOpts...)
	k, err := n.Vrf(name, int(table), rt.linkOptions(c, o))
	c.check(err)
	L.Push(rt.pushLink(L, k))
	return 1
}

func (rt *Runtime) netnsGre(L *lua.LState) int    { return rt.gre(L, "gre", false) }
func (rt *Runtime) netnsGretap(L *lua.LState) int { return rt.gre(L, "gretap", true) }

func (rt *Runtime) gre(L *lua.LState, kind string, tap bool) int {
	c, n, name := rt.kindCall(L, kind, 2)
	if _, ok := L.Get(3).(*lua.LTable); !ok {
		c.bad(3, "opts", "a table with remote= (and local=)", L.Get(3))
	}
	o := c.opts(3, withCommon("local", "remote", "key", "ttl")...)
	var g lab.GreOptions
	g.Local, _ = o.name("local")
	g.Remote, _ = o.name("remote")
	key, _ := o.integer("key", 0, 1<<32-1)
	g.Key = uint32(key)
	ttl, _ := o.integer("ttl", 0, 255)
	g.TTL = uint8(ttl)
	k, err := n.Gre(name, tap, g, rt.linkOptions(c, o))
	c.check(err)
	L.Push(rt.pushLink(L, k))
	return 1
}

func (rt *Runtime) linkFDB(L *lua.LState) int {
	c, k := linkMethod(L, "fdb", 2)
	mac := c.name(2, "mac")
	o := c.opts(3, "dst")
	dst, ok := o.name("dst")
	if !ok {
		c.raise("option dst is required (the remote VTEP's address)")
	}
	if mac == "00:00:00:00:00:00" {
		mac = ""
	}
	c.check(k.AddFDB(mac, dst))
	L.Push(L.Get(1))
	return 1
}

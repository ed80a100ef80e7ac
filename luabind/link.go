package luabind

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
)

var linkFields = map[string]fieldFn{
	"name":  func(rt *Runtime, L *lua.LState, v any) lua.LValue { return lua.LString(v.(*lab.Link).Name) },
	"index": func(rt *Runtime, L *lua.LState, v any) lua.LValue { return lua.LNumber(v.(*lab.Link).Index) },
	"kind":  func(rt *Runtime, L *lua.LState, v any) lua.LValue { return lua.LString(v.(*lab.Link).Kind) },
	"ns":    func(rt *Runtime, L *lua.LState, v any) lua.LValue { return rt.pushNetns(L, v.(*lab.Link).NS) },
}

func (rt *Runtime) linkMethods() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"up": rt.linkUp, "down": rt.linkDown, "addr": rt.linkAddr, "addrs": rt.linkAddrs,
		"mtu": rt.linkMTU, "mac": rt.linkMAC, "master": rt.linkMaster, "move": rt.linkMove,
		"delete": rt.linkDelete, "info": rt.linkInfo, "port": rt.linkPort,
		"stp": rt.linkSTP, "group_fwd_mask": rt.linkGroupFwdMask,
		"fdb": rt.linkFDB, "offload": rt.linkOffload,
		"shape":   rt.linkShape,
		"capture": rt.linkCapture,
	}
}

func linkMethod(L *lua.LState, name string, maxArgs int) (call, *lab.Link) {
	c := newMethodCall(L, "Link:"+name, maxArgs)
	k := self[*lab.Link](c, typeLink)
	c.fn = fmt.Sprintf("%s/%s:%s", k.NS.Name, k.Name, name)
	return c, k
}

func (rt *Runtime) linkUp(L *lua.LState) int {
	c, k := linkMethod(L, "up", 0)
	c.check(k.SetUp(true))
	L.Push(L.Get(1))
	return 1
}

func (rt *Runtime) linkDown(L *lua.LState) int {
	c, k := linkMethod(L, "down", 0)
	c.check(k.SetUp(false))
	L.Push(L.Get(1))
	return 1
}

func (rt *Runtime) linkAddr(L *lua.LState) int {
	c, k := linkMethod(L, "addr", 2)
	cidr := c.name(2, "cidr")
	o := c.opts(3, "dad")
	var ao lab.AddrOptions
	ao.DAD, _ = o.boolean("dad")
	c.check(k.AddAddrWith(cidr, ao))
	L.Push(L.Get(1))
	return 1
}

func (rt *Runtime) linkAddrs(L *lua.LState) int {
	c, k := linkMethod(L, "addrs", 0)
	addrs, err := k.Addrs()
	c.check(err)
	t := L.CreateTable(len(addrs), 0)
	for _, a := range addrs {
		t.Append(lua.LString(a))
	}
	L.Push(t)
	return 1
}

func (rt *Runtime) linkMTU(L *lua.LState) int {
	c, k := linkMethod(L, "mtu", 1)
	if L.GetTop() >= 2 {
		mtu := c.num(2, "mtu")
		if mtu != float64(int(mtu)) {
			c.raise("argument #1 (mtu) must be a whole number, got %v", mtu)
		}
		c.check(k.SetMTU(int(mtu)))
	}
	attrs, err := k.Attrs()
	c.check(err)
	L.Push(lua.LNumber(attrs.MTU))
	return 1
}

func (rt *Runtime) linkMAC(L *lua.LState) int {
	c, k := linkMethod(L, "mac", 1)
	if L.GetTop() >= 2 {
		c.check(k.SetMAC(c.name(2, "mac")))
	}
	attrs, err := k.Attrs()
	c.check(err)
	L.Push(lua.LString(attrs.HardwareAddr.String()))
	return 1
}

func (rt *Runtime) linkMaster(L *lua.LState) int {
	c, k := linkMethod(L, "master", 1)
	if L.GetTop() < 2 {
		c.raise("argument #1 (bridge) is missing: give a bridge or VRF Link, or nil to release")
	}
	var br *lab.Link
	if L.Get(2) != lua.LNil {
		br = rt.linkValue(c, L.Get(2), "argument #1 (bridge)")
	}
	c.check(k.SetMaster(br))
	L.Push(L.Get(1))
	return 1
}

func (rt *Runtime) linkMove(L *lua.LState) int {
	c, k := linkMethod(L, "move", 2)
	to := rt.netnsValue(c, L.Get(2), "argument #1 (netns)")
	newName, _ := c.optName(3, "new_name")
	c.check(k.Move(to, newName))
	L.Push(L.Get(1))
	return 1
}

func (rt *Runtime) linkDelete(L *lua.LState) int {
	c, k := linkMethod(L, "delete", 0)
	c.check(k.Delete())
	return 0
}

func (rt *Runtime) linkPort(L *lua.LState) int {
	c, k := linkMethod(L, "port", 1)
	o := c.opts(2, "learning", "locked", "flood", "isolated")
	var po lab.PortOptions
	for key, dst := range map[string]**bool{"learning": &po.Learning, "locked": &po.Locked, "flood": &po.Flood, "isolated": &po.Isolated} {
		if v, ok := o.boolean(key); ok {
			*dst = &v
		}
	}
	c.check(k.SetPort(po))
	L.Push(L.Get(1))
	return 1
}

func (rt *Runtime) linkSTP(L *lua.LState) int {
	c, k := linkMethod(L, "stp", 1)
	on, ok := L.Get(2).(lua.LBool)
	if !ok {
		c.bad(2, "on", "a boolean", L.Get(2))
	}
	c.check(k.SetSTP(bool(on)))
	L.Push(L.Get(1))
	return 1
}

func (rt *Runtime) linkGroupFwdMask(L *lua.LState) int {
	c, k := linkMethod(L, "group_fwd_mask", 1)
	mask := c.num(2, "mask")
	if mask != float64(int(mask)) || mask < 0 || mask > 0xffff {
		c.raise("argument #1 (mask) must be a whole number from 0 to 65535, got %v", mask)
	}
	c.check(k.SetGroupFwdMask(uint16(mask)))
	L.Push(L.Get(1))
	return 1
}

package luabind

import (
	"fmt"
	"hash/fnv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
	"github.com/nslua/nslua/internal/remote"
)

// vniTries is how many VNIs a cross-host link tries when the kernel says
// one is in use on a host (another lab's link).
const vniTries = 8

// vethEnd is one side of a cross-host link.
type vethEnd struct {
	host  string
	ud    *lua.LUserData // the namespace: a Netns here, a proxy there
	name  string
	addr  []string
	mac   string
	local string // underlay address of this side
	dev   string // underlay device
	mtu   int    // its MTU
}

// crossVeth is a:veth(name, b, peer_name, opts) between namespaces of two
// hosts: a VXLAN pair with the same names, addresses and options, each
// end made in its host's own namespace and created directly in the lab's
// (its UDP socket stays on the underlay). Stack: a, name, b, peer_name, opts.
func (rt *Runtime) crossVeth(L *lua.LState, fnName string) int {
	c := newMethodCall(L, fnName, 4)
	a, b := rt.vethEndOf(c, 1), rt.vethEndOf(c, 3)
	a.name, b.name = c.name(2, "name"), c.name(4, "peer_name")
	c.fn = fmt.Sprintf("%s(%q)", fnName, a.name)
	o := c.opts(5, "addr", "peer_addr", "mtu", "mac", "peer_mac", "shape")
	if o.get("shape") != lua.LNil {
		c.raise("option shape: not on a cross-host link; shape its ends with link:shape")
	}
	a.addr, b.addr = o.strList("addr"), o.strList("peer_addr")
	a.mac, _ = o.name("mac")
	b.mac, _ = o.name("peer_mac")
	mtu, _ := o.integer("mtu", 68, 65535)
	hs := rt.hostSet()
	c.check(hs.underlayAddrs(a, b))
	c.check(hs.underlay(L, a, b.local))
	c.check(hs.underlay(L, b, a.local))
	if mtu == 0 {
		mtu = min(a.mtu, b.mtu) - remote.VxlanOverhead
	}
	var err error
	for range vniTries {
		vni := hs.nextVNI()
		var ka, kb lua.LValue
		if ka, err = rt.vxlanEnd(L, a, b, vni, mtu); err == nil {
			if kb, err = rt.vxlanEnd(L, b, a, vni, mtu); err == nil {
				L.Push(ka)
				L.Push(kb)
				return 2
			}
			rt.deleteEnd(L, a.host, ka)
		}
		if !vniTaken(err) {
			break
		}
	}
	c.check(err)
	return 0
}

func (rt *Runtime) vethEndOf(c call, i int) *vethEnd {
	v := c.L.Get(i)
	if p := proxyOf(v); p != nil && p.typ == typeNetns {
		return &vethEnd{host: p.host, ud: v.(*lua.LUserData)}
	}
	if ud, ok := v.(*lua.LUserData); ok {
		if _, ok := ud.Value.(*lab.Netns); ok {
			return &vethEnd{host: LocalHost, ud: ud}
		}
	}
	c.raise("argument #%d must be a Netns, got %s", c.arg(i), typeName(v))
	return nil
}

// underlayAddrs sets each side's underlay address: a host's is the one
// its ssh connection reached; the controller's is where that connection
// came from, as the other host saw it.
func (hs *hostSet) underlayAddrs(a, b *vethEnd) error {
	for _, e := range []struct{ this, other *vethEnd }{{a, b}, {b, a}} {
		ask := e.this.host
		if ask == LocalHost {
			ask = e.other.host
		}
		hello := hs.clients[ask].Hello
		client, server, ok := remote.SSHConnection(hello.SSH)
		if !ok {
			return fmt.Errorf("host %s: the address its connection reached is unknown ($SSH_CONNECTION is %q)", ask, hello.SSH)
		}
		if e.this.host == LocalHost {
			e.this.local = client
		} else {
			e.this.local = server
		}
	}
	return nil
}

// underlay finds e's device and MTU toward peer, on e's host, once per
// pair of hosts in a run (a star's links all take the same way).
func (hs *hostSet) underlay(L *lua.LState, e *vethEnd, peer string) error {
	key := e.host + " " + peer
	if u, ok := hs.underlays[key]; ok {
		e.dev, e.mtu = u.dev, u.mtu
		return nil
	}
	if e.host == LocalHost {
		var err error
		if e.dev, _, e.mtu, err = remote.Underlay(peer, ""); err != nil {
			return err
		}
	} else {
		r, err := hs.raw(L, e.host, &remote.Msg{Op: remote.OpUnderlay, Peer: peer, Dev: hs.targets[e.host].Underlay})
		if err != nil {
			return err
		}
		e.dev, e.mtu = r.Dev, r.MTU
	}
	if hs.underlays == nil {
		hs.underlays = map[string]underlayWay{}
	}
	hs.underlays[key] = underlayWay{e.dev, e.mtu}
	return nil
}

// underlayWay is how a host reaches another: the device and its MTU.
type underlayWay struct {
	dev string
	mtu int
}

// vxlanEnd makes e's end, pointing at peer.
func (rt *Runtime) vxlanEnd(L *lua.LState, e, peer *vethEnd, vni, mtu int) (lua.LValue, error) {
	if e.host == LocalHost {
		host, err := rt.Lab.Host()
		if err != nil {
			return nil, err
		}
		k, err := host.Vxlan(e.name, lab.VxlanOptions{VNI: vni, Remote: peer.local, Local: e.local, Dev: e.dev},
			lab.LinkOptions{Addr: e.addr, MTU: mtu, MAC: e.mac, In: e.ud.Value.(*lab.Netns)})
		if err != nil {
			return nil, err
		}
		return rt.pushLink(L, k), nil
	}
	hs := rt.hostSet()
	host, err := hs.hostNetns(L, e.host)
	if err != nil {
		return nil, err
	}
	o := L.NewTable()
	o.RawSetString("vni", lua.LNumber(vni))
	o.RawSetString("remote", lua.LString(peer.local))
	o.RawSetString("local", lua.LString(e.local))
	o.RawSetString("dev", lua.LString(e.dev))
	o.RawSetString("mtu", lua.LNumber(mtu))
	o.RawSetString("netns", e.ud)
	if len(e.addr) > 0 {
		addrs := L.NewTable()
		for _, a := range e.addr {
			addrs.Append(lua.LString(a))
		}
		o.RawSetString("addr", addrs)
	}
	if e.mac != "" {
		o.RawSetString("mac", lua.LString(e.mac))
	}
	args, err := hs.codecOn(L, e.host).encodeAll([]lua.LValue{lua.LString(e.name), o})
	if err != nil {
		return nil, err
	}
	vals, err := hs.try(L, e.host, &remote.Msg{Op: remote.OpCall, Target: proxyOf(host).id, Method: "vxlan", Args: args})
	if err != nil {
		return nil, err
	}
	if len(vals) != 1 {
		return nil, fmt.Errorf("host %s: vxlan gave %d values", e.host, len(vals))
	}
	return vals[0], nil
}

// hostNetns is the proxy of ns.host() on host.
func (hs *hostSet) hostNetns(L *lua.LState, host string) (*lua.LUserData, error) {
	if ud := hs.hostNs[host]; ud != nil {
		return ud, nil
	}
	vals, err := hs.try(L, host, &remote.Msg{Op: remote.OpCall, Method: "host"})
	if err != nil {
		return nil, err
	}
	ud, ok := vals[0].(*lua.LUserData)
	if !ok || proxyOf(ud) == nil {
		return nil, fmt.Errorf("host %s: ns.host() gave %s", host, typeName(vals[0]))
	}
	hs.hostNs[host] = ud
	return ud, nil
}

// deleteEnd removes an end made before its peer failed.
func (rt *Runtime) deleteEnd(L *lua.LState, host string, k lua.LValue) {
	if ud, ok := k.(*lua.LUserData); ok {
		if lk, ok := ud.Value.(*lab.Link); ok {
			lk.Delete()
			return
		}
	}
	if p := proxyOf(k); p != nil {
		rt.hostSet().try(L, host, &remote.Msg{Op: remote.OpCall, Target: p.id, Method: "delete"})
	}
}

// nextVNI gives each cross-host link of the lab its own VNI, from a base
// derived from the lab's name, so that two labs over the same hosts
// start far apart; a VNI the kernel says is in use is skipped.
func (hs *hostSet) nextVNI() int { return hs.vniFor(hs.rt.Lab.Name) }

func (hs *hostSet) vniFor(labName string) int {
	h := fnv.New32a()
	h.Write([]byte(labName))
	base := int(h.Sum32()%(1<<23)) + 1<<20
	hs.links++
	return (base+hs.links)%(1<<24-1) + 1
}

// vniTaken tells the kernel's refusal of a VNI in use (EEXIST, the name
// being free) from other errors.
func vniTaken(err error) bool {
	return err != nil && strings.Contains(err.Error(), "file exists") && !strings.Contains(err.Error(), lab.ErrExists.Error())
}

// vethShorthand serves ns.veth{ {a, "a0", cidr}, {b, "b0", cidr} } when
// an end is on another host: as a:veth("a0", b, "b0", {addr, peer_addr,
// shape}), which forwards it or makes a cross-host pair. It pushes the
// two links and reports whether it did.
func (hs *hostSet) vethShorthand(L *lua.LState, t *lua.LTable) bool {
	var end [2]*lua.LTable
	remote := false
	for i := range end {
		e, ok := t.RawGetInt(i + 1).(*lua.LTable)
		if !ok {
			return false
		}
		end[i] = e
		remote = remote || proxyOf(e.RawGetInt(1)) != nil
	}
	if !remote {
		return false
	}
	o := L.NewTable()
	o.RawSetString("addr", end[0].RawGetInt(3))
	o.RawSetString("peer_addr", end[1].RawGetInt(3))
	o.RawSetString("shape", t.RawGetString("shape"))
	a := end[0].RawGetInt(1)
	var fn lua.LValue = hs.method(L, "veth")
	if proxyOf(a) == nil {
		fn = L.GetField(a, "veth")
	}
	L.Push(fn)
	L.Push(a)
	L.Push(end[0].RawGetInt(2))
	L.Push(end[1].RawGetInt(1))
	L.Push(end[1].RawGetInt(2))
	L.Push(o)
	L.Call(5, 2)
	return true
}

package luabind

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
)

var netnsFields = map[string]fieldFn{
	"name":  func(rt *Runtime, L *lua.LState, v any) lua.LValue { return lua.LString(v.(*lab.Netns).Name) },
	"path":  func(rt *Runtime, L *lua.LState, v any) lua.LValue { return lua.LString(v.(*lab.Netns).Path) },
	"inode": func(rt *Runtime, L *lua.LState, v any) lua.LValue { return lua.LNumber(v.(*lab.Netns).Inode) },
	"host":  func(rt *Runtime, L *lua.LState, v any) lua.LValue { return lua.LString(LocalHost) },
}

func (rt *Runtime) netnsMethods() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"exec": rt.netnsExec, "spawn": rt.netnsSpawn, "etc": rt.netnsEtc,
		"veth": rt.netnsVeth, "bridge": rt.netnsBridge, "link": rt.netnsLink,
		"links": rt.netnsLinks, "addr": rt.netnsAddr, "route": rt.netnsRoute,
		"sysctl": rt.netnsSysctl, "pids": rt.netnsPids, "inspect": rt.netnsInspect,
		"delete": rt.netnsDelete, "etc_copy": rt.netnsEtcCopy, "file": rt.netnsFile,
		// link kinds (linkkinds.go), policy routing and NAT (routing.go)
		"macvlan": rt.netnsMacvlan, "vlan": rt.netnsVlan, "vxlan": rt.netnsVxlan,
		"tuntap": rt.netnsTuntap, "dummy": rt.netnsDummy, "vrf": rt.netnsVrf,
		"gre": rt.netnsGre, "gretap": rt.netnsGretap, "wireguard": rt.netnsWireguard,
		"rule": rt.netnsRule, "masquerade": rt.netnsMasquerade, "forward": rt.netnsForward,
	}
}

// method starts a Netns method call: checks self and the argument count,
// and names the call in errors as `ns1:exec`.
func (rt *Runtime) method(L *lua.LState, name string, maxArgs int) (call, *lab.Netns) {
	c := newMethodCall(L, "Netns:"+name, maxArgs)
	n := self[*lab.Netns](c, typeNetns)
	c.fn = n.Name + ":" + name
	return c, n
}

// command reads exec's and spawn's first argument: an argv table, or a
// string run by /bin/sh -c.
func command(c call) []string {
	switch v := c.L.Get(2).(type) {
	case lua.LString:
		if strings.TrimSpace(string(v)) == "" {
			c.raise("argument #1 (cmd) is an empty command")
		}
		return lab.ShellArgv(string(v))
	case *lua.LTable:
		argv := c.stringList(v, "cmd")
		if len(argv) == 0 || argv[0] == "" {
			c.raise("argument #1 (cmd) is an empty argv table")
		}
		return argv
	default:
		c.bad(2, "cmd", "an argv table or a command string", v)
	}
	return nil
}

func cmdOpts(c call, o opts, argv []string) *lab.Cmd {
	cmd := &lab.Cmd{Argv: argv}
	cmd.Env = o.stringMap("env")
	cmd.Dir, _ = o.str("dir")
	cmd.Stdin, _ = o.str("stdin")
	cmd.Timeout, _ = o.seconds("timeout")
	return cmd
}

func (rt *Runtime) netnsExec(L *lua.LState) int {
	c, n := rt.method(L, "exec", 2)
	argv := command(c)
	o := c.opts(3, "env", "dir", "stdin", "timeout", "check")
	cmd := cmdOpts(c, o, argv)
	check, _ := o.boolean("check")
	var res *lab.Result
	var err error
	if rt.pending() { // run the timeline while the command runs
		c.check(rt.background(L, func(ctx context.Context) { res, err = n.Exec(ctx, cmd) }))
	} else {
		res, err = n.Exec(ctxOf(L), cmd)
	}
	if err != nil && res == nil {
		c.check(err)
	}
	if err != nil {
		c.raise("%s: interrupted", strings.Join(argv, " "))
	}
	if check && res.Code != 0 {
		c.raise("%s exited with code %d%s", strings.Join(argv, " "), res.Code, stderrTail(res.Stderr))
	}
	L.Push(resultTable(L, res))
	return 1
}

func stderrTail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if len(s) > 500 {
		s = "..." + s[len(s)-500:]
	}
	return ": " + s
}

func resultTable(L *lua.LState, res *lab.Result) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("code", lua.LNumber(res.Code))
	t.RawSetString("stdout", lua.LString(res.Stdout))
	t.RawSetString("stderr", lua.LString(res.Stderr))
	if res.Signal != "" {
		t.RawSetString("signal", lua.LString(res.Signal))
	}
	if res.TimedOut {
		t.RawSetString("timeout", lua.LTrue)
	}
	return t
}

func (rt *Runtime) netnsSpawn(L *lua.LState) int {
	c, n := rt.method(L, "spawn", 2)
	argv := command(c)
	o := c.opts(3, "env", "dir", "stdin", "log", "ready", "ready_timeout")
	cmd := cmdOpts(c, o, argv)
	logPath := rt.logFile(c, o)
	ready, hasReady := rt.readyOpt(c, o)
	readyTimeout, ok := o.seconds("ready_timeout")
	if !ok {
		readyTimeout = 10 * time.Second
	}
	p, err := n.Spawn(cmd, lab.SpawnOptions{Log: logPath})
	c.check(err)
	if hasReady {
		if err := p.WaitUntil(ctxOf(L), ready.check(p), readyTimeout, ready.what); err != nil {
			p.Kill(15)
			var fnErr readyFnError
			if errors.As(err, &fnErr) {
				c.raise("ready function: %s", fnErr)
			}
			c.raise("%s", err)
		}
	}
	L.Push(rt.newUD(L, typeProc, p))
	return 1
}

func (rt *Runtime) netnsEtc(L *lua.LState) int {
	c, n := rt.method(L, "etc", 2)
	path := c.name(2, "path")
	c.fn = fmt.Sprintf("%s:etc(%q)", n.Name, path)
	if L.GetTop() >= 3 {
		content := c.str(3, "content")
		c.check(n.WriteEtc(path, content))
		L.Push(L.Get(1))
		return 1
	}
	data, found, err := n.ReadEtc(path)
	c.check(err)
	if !found {
		L.Push(lua.LNil)
	} else {
		L.Push(lua.LString(data))
	}
	return 1
}

func (rt *Runtime) netnsVeth(L *lua.LState) int {
	c, n := rt.method(L, "veth", 4)
	if proxyOf(L.Get(3)) != nil {
		return rt.crossVeth(L, n.Name+":veth")
	}
	name := c.name(2, "name")
	peer := rt.netnsValue(c, L.Get(3), "argument #2 (peer_ns)")
	peerName := c.name(4, "peer_name")
	c.fn = fmt.Sprintf("%s:veth(%q)", n.Name, name)
	o := c.opts(5, "addr", "peer_addr", "mtu", "mac", "peer_mac", "shape")
	vo := lab.VethOptions{Addr: o.strList("addr"), PeerAddr: o.strList("peer_addr")}
	vo.MTU, _ = o.integer("mtu", 68, 65535)
	vo.MAC, _ = o.name("mac")
	vo.PeerMAC, _ = o.name("peer_mac")
	shaping := readVethShape(c, o.get("shape"))
	a, b, err := n.Veth(name, peer, peerName, vo)
	c.check(err)
	shaping.apply(c, a, b)
	L.Push(rt.pushLink(L, a))
	L.Push(rt.pushLink(L, b))
	return 2
}

func (rt *Runtime) netnsBridge(L *lua.LState) int {
	c, n := rt.method(L, "bridge", 2)
	name := c.name(2, "name")
	c.fn = fmt.Sprintf("%s:bridge(%q)", n.Name, name)
	o := c.opts(3, "stp", "group_fwd_mask", "up")
	var bo lab.BridgeOptions
	if up, ok := o.boolean("up"); ok {
		bo.Down = !up
	}
	if stp, ok := o.boolean("stp"); ok {
		bo.STP = &stp
	}
	if mask, ok := o.integer("group_fwd_mask", 0, 0xffff); ok {
		m := uint16(mask)
		bo.GroupFwdMask = &m
	}
	k, err := n.Bridge(name, bo)
	c.check(err)
	L.Push(rt.pushLink(L, k))
	return 1
}

func (rt *Runtime) netnsLink(L *lua.LState) int {
	c, n := rt.method(L, "link", 1)
	k, err := n.Link(c.name(2, "name"))
	c.check(err)
	L.Push(rt.pushLink(L, k))
	return 1
}

func (rt *Runtime) netnsLinks(L *lua.LState) int {
	c, n := rt.method(L, "links", 0)
	ks, err := n.Links()
	c.check(err)
	t := L.CreateTable(len(ks), 0)
	for _, k := range ks {
		t.Append(rt.pushLink(L, k))
	}
	L.Push(t)
	return 1
}

func (rt *Runtime) netnsAddr(L *lua.LState) int {
	c, n := rt.method(L, "addr", 2)
	dev := c.name(2, "dev")
	cidr := c.name(3, "cidr")
	k, err := n.Link(dev)
	c.check(err)
	c.check(k.AddAddr(cidr))
	L.Push(rt.pushLink(L, k))
	return 1
}

func (rt *Runtime) netnsRoute(L *lua.LState) int {
	c, n := rt.method(L, "route", 3)
	var r lab.Route
	if t, ok := L.Get(2).(*lua.LTable); ok {
		if L.GetTop() > 2 {
			c.raise("takes either a table or (dst, via [, dev]), not both")
		}
		o := c.opts(2, "dst", "via", "dev", "metric", "table")
		var has bool
		if r.Dst, has = o.name("dst"); !has {
			c.raise("option dst is required (a prefix or \"default\")")
		}
		r.Via, _ = o.name("via")
		r.Dev, _ = o.name("dev")
		r.Metric, _ = o.integer("metric", 0, 1<<31-1)
		r.Table, _ = o.integer("table", 1, 1<<32-1)
		_ = t
	} else {
		r.Dst = c.name(2, "dst")
		r.Via, _ = c.optName(3, "via")
		r.Dev, _ = c.optName(4, "dev")
	}
	c.check(n.AddRoute(r))
	return 0
}

func (rt *Runtime) netnsSysctl(L *lua.LState) int {
	c, n := rt.method(L, "sysctl", 2)
	key := c.name(2, "key")
	if L.GetTop() >= 3 {
		c.check(n.SetSysctl(key, c.scalar(L.Get(3), "argument #2 (value)")))
	}
	v, err := n.Sysctl(key)
	c.check(err)
	L.Push(lua.LString(v))
	return 1
}

func (rt *Runtime) netnsPids(L *lua.LState) int {
	c, n := rt.method(L, "pids", 0)
	pids, err := n.Pids()
	c.check(err)
	t := L.CreateTable(len(pids), 0)
	for _, pid := range pids {
		t.Append(lua.LNumber(pid))
	}
	L.Push(t)
	return 1
}

func (rt *Runtime) netnsDelete(L *lua.LState) int {
	c, n := rt.method(L, "delete", 0)
	c.check(n.Delete())
	return 0
}

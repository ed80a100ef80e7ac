// Package luabind is the `nslua` Lua module: namespaces, links and
// processes of a lab (internal/lab) as Lua objects, with errors raised as
// Lua errors that name the function at fault. Every function is documented
// in docs.go, the one source of help() and docs/API.md.
package luabind

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
	"github.com/nslua/nslua/scripts"
)

// Runtime binds one lab to one Lua state.
type Runtime struct {
	Lab       *lab.Lab
	ScriptDir string    // searched first by require ("" = none)
	Out       io.Writer // help() and friends print here
	// WaitSignal blocks until SIGINT or SIGTERM (ns.wait) or ctx ends.
	WaitSignal func(ctx context.Context) error

	// NamePrefix is put before the names given to ns.add and ns.pin: the
	// `nslua test` runner gives each test its own, so that tests run in
	// parallel with the same names in source never clash.
	NamePrefix string

	tests   []Test
	skipped skipped // the last ns.skip
	defers  []*lua.LFunction
	netnsUD map[*lab.Netns]*lua.LUserData
	tl      timeline // ns.after, ns.every (timeline.go)

	// SSHConfig is the ssh_config for hosts that name none (--ssh-config).
	SSHConfig string
	hosts     *hostSet // the lab's other hosts (hosts.go); nil until ns.hosts
}

// New makes a runtime for l.
func New(l *lab.Lab) *Runtime {
	return &Runtime{Lab: l, Out: os.Stdout, netnsUD: map[*lab.Netns]*lua.LUserData{}}
}

// Open installs the module in L: require("nslua"), the global `ns`,
// help(), and the require search order (script dir, NSLUA_PATH, built-ins).
func (rt *Runtime) Open(L *lua.LState) {
	rt.registerTypes(L)
	mod := L.NewTable()
	L.SetFuncs(mod, rt.moduleFuncs())
	L.PreloadModule("nslua", func(L *lua.LState) int {
		L.Push(mod)
		return 1
	})
	L.SetGlobal("ns", mod)
	L.SetGlobal("help", L.NewFunction(rt.help))
	rt.setupRequire(L)
}

func (rt *Runtime) moduleFuncs() map[string]lua.LGFunction {
	funcs := map[string]lua.LGFunction{
		"add": rt.nsAdd, "open": rt.nsOpen, "pin": rt.nsPin, "host": rt.nsHost,
		"list": rt.nsList, "inspect": rt.nsInspect, "veth": rt.nsVeth,
		"keep": rt.nsKeep, "wait": rt.nsWait, "defer": rt.nsDefer,
		"sleep": rt.nsSleep, "lab": rt.nsLab, "libfile": rt.nsLibfile, "clock": rt.nsClock,
		"wgkey": rt.nsWgkey,
		"after": rt.nsAfter, "every": rt.nsEvery, "check_limits": rt.nsCheckLimits,
		"capture": rt.nsCapture, "rootless": nsRootless,
		"hosts": rt.nsHosts, "place": rt.nsPlace,
	}
	for name, fn := range rt.testFuncs() {
		funcs[name] = fn
	}
	return funcs
}

func ctxOf(L *lua.LState) context.Context {
	if ctx := L.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

func (rt *Runtime) nsAdd(L *lua.LState) int {
	c := newCall(L, "ns.add", 2)
	name := c.name(1, "name")
	c.fn = fmt.Sprintf("ns.add(%q)", name)
	o := c.opts(2, "exist_ok", "etc", "sysctl", "private", "share", "host")
	host, _ := o.name("host")
	if host == "" && rt.hosts != nil {
		host = rt.hosts.placeHost(c, name)
	}
	if host != "" && host != LocalHost {
		if rt.hosts == nil || rt.hosts.clients[host] == nil {
			c.raise("option host: no host %s in this lab (ns.hosts names them; the controller is %q)", host, LocalHost)
		}
		L.Push(rt.hostSet().add(L, host, rt.NamePrefix+name, L.Get(2)))
		return 1
	}
	var ao lab.AddOptions
	ao.ExistOK, _ = o.boolean("exist_ok")
	if private, given := o.boolean("private"); given {
		ao.NoPrivate = !private
	}
	ao.Share = o.strList("share")
	ao.Etc = o.stringMap("etc")
	ao.Sysctl = o.stringMap("sysctl")
	for path := range ao.Etc {
		c.check(checkKey("option etc: file name", path))
		c.check(lab.CheckEtcPath(path))
	}
	for key := range ao.Sysctl {
		c.check(checkKey("option sysctl: key", key))
		c.check(lab.CheckSysctlKey(key))
	}
	n, err := rt.Lab.Add(rt.NamePrefix+name, ao)
	c.check(err)
	L.Push(rt.pushNetns(L, n))
	return 1
}

func (rt *Runtime) nsOpen(L *lua.LState) int {
	c := newCall(L, "ns.open", 1)
	name := c.name(1, "name")
	c.fn = fmt.Sprintf("ns.open(%q)", name)
	n, err := rt.Lab.Open(name)
	c.check(err)
	L.Push(rt.pushNetns(L, n))
	return 1
}

func (rt *Runtime) nsPin(L *lua.LState) int {
	c := newCall(L, "ns.pin", 2)
	name := c.name(1, "name")
	var target string
	switch v := L.Get(2).(type) {
	case lua.LNumber:
		if float64(v) != float64(int(v)) {
			c.raise("argument #2 (target) must be a whole PID, got %v", v)
		}
		target = v.String()
	case lua.LString:
		target = string(v)
		if target == "" || target[0] != '/' {
			c.raise("argument #2 (target) must be a PID or an absolute path, got %s", quote(target))
		}
	default:
		c.bad(2, "target", "a PID or a path", v)
	}
	c.fn = fmt.Sprintf("ns.pin(%q, %s)", name, target)
	n, err := rt.Lab.Pin(rt.NamePrefix+name, target)
	c.check(err)
	L.Push(rt.pushNetns(L, n))
	return 1
}

func (rt *Runtime) nsHost(L *lua.LState) int {
	c := newCall(L, "ns.host", 0)
	n, err := rt.Lab.Host()
	c.check(err)
	L.Push(rt.pushNetns(L, n))
	return 1
}

func (rt *Runtime) nsList(L *lua.LState) int {
	c := newCall(L, "ns.list", 0)
	names, err := lab.List()
	c.check(err)
	t := L.CreateTable(len(names), 0)
	for _, name := range names {
		t.Append(lua.LString(name))
	}
	L.Push(t)
	return 1
}

// nsVeth is the shorthand ns.veth{ {a, "a0", "10.0.0.1/24"}, {b, "b0", ...} }.
func (rt *Runtime) nsVeth(L *lua.LState) int {
	c := newCall(L, "ns.veth", 1)
	t := c.optTable(1, "ends")
	if t == nil || t.Len() != 2 {
		c.raise("argument #1 must be a list of two ends, { {netns, name [, cidr]}, {netns, name [, cidr]} }")
	}
	if rt.hosts != nil && rt.hosts.vethShorthand(L, t) {
		return 2
	}
	var ends [2]struct {
		n    *lab.Netns
		name string
		addr []string
	}
	for i := range ends {
		end, ok := t.RawGetInt(i + 1).(*lua.LTable)
		if !ok {
			c.raise("end %d must be a table {netns, name [, cidr]}", i+1)
		}
		ends[i].n = rt.netnsValue(c, end.RawGetInt(1), fmt.Sprintf("end %d netns", i+1))
		name, ok := end.RawGetInt(2).(lua.LString)
		if !ok {
			c.raise("end %d name must be a string, got %s", i+1, typeName(end.RawGetInt(2)))
		}
		if err := checkName(string(name)); err != nil {
			c.raise("end %d name %v", i+1, err)
		}
		ends[i].name = string(name)
		switch a := end.RawGetInt(3).(type) {
		case lua.LString:
			ends[i].addr = []string{string(a)}
		case *lua.LNilType:
		default:
			c.raise("end %d address must be a CIDR string, got %s", i+1, typeName(a))
		}
	}
	shaping := readVethShape(c, t.RawGetString("shape"))
	a, b, err := ends[0].n.Veth(ends[0].name, ends[1].n, ends[1].name, lab.VethOptions{Addr: ends[0].addr, PeerAddr: ends[1].addr})
	c.check(err)
	shaping.apply(c, a, b)
	L.Push(rt.pushLink(L, a))
	L.Push(rt.pushLink(L, b))
	return 2
}

func (rt *Runtime) nsKeep(L *lua.LState) int {
	c := newCall(L, "ns.keep", 0)
	c.check(rt.Lab.Keep())
	return 0
}

func (rt *Runtime) nsWait(L *lua.LState) int {
	c := newCall(L, "ns.wait", 0)
	if rt.WaitSignal == nil {
		c.raise("not available here")
	}
	var err error
	if rt.pending() { // run the timeline while waiting
		c.check(rt.background(L, func(ctx context.Context) { err = rt.WaitSignal(ctx) }))
	} else {
		err = rt.WaitSignal(ctxOf(L))
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		c.check(err)
	}
	return 0
}

func (rt *Runtime) nsDefer(L *lua.LState) int {
	c := newCall(L, "ns.defer", 1)
	fn, ok := L.Get(1).(*lua.LFunction)
	if !ok {
		c.bad(1, "fn", "a function", L.Get(1))
	}
	rt.defers = append(rt.defers, fn)
	return 0
}

func (rt *Runtime) nsSleep(L *lua.LState) int {
	c := newCall(L, "ns.sleep", 1)
	d := c.seconds(c.num(1, "seconds"), "seconds")
	if rt.pending() { // run the timeline while sleeping
		_, err := rt.waitTimers(L, ctxOf(L), nil, time.Now().Add(d))
		if err != nil && ctxOf(L).Err() != nil {
			c.raise("interrupted")
		}
		c.check(err)
		return 0
	}
	select {
	case <-time.After(d):
	case <-ctxOf(L).Done():
		if err := ctxOf(L).Err(); IsStop(err) {
			c.raise("interrupted: %v", err)
		}
		c.raise("interrupted")
	}
	return 0
}

// processStart anchors ns.clock: monotonic, unlike os.time's seconds.
var processStart = time.Now()

func (rt *Runtime) nsClock(L *lua.LState) int {
	newCall(L, "ns.clock", 0)
	L.Push(lua.LNumber(time.Since(processStart).Seconds()))
	return 1
}

func (rt *Runtime) nsLab(L *lua.LState) int {
	newCall(L, "ns.lab", 0)
	t := L.NewTable()
	t.RawSetString("name", lua.LString(rt.Lab.Name))
	t.RawSetString("dir", lua.LString(rt.Lab.Dir))
	L.Push(t)
	return 1
}

func (rt *Runtime) nsLibfile(L *lua.LState) int {
	c := newCall(L, "ns.libfile", 1)
	name := c.name(1, "name")
	data, err := scripts.Asset(name)
	c.check(err)
	L.Push(lua.LString(data))
	return 1
}

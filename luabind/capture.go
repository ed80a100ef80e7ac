package luabind

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/capture"
	"github.com/nslua/nslua/internal/lab"
)

const typeCapture = "Capture"

// keepPackets bounds the summaries a capture keeps for :packets().
const keepPackets = 100000

// maxCapturedLinks bounds the links a lab captures at once: each holds an
// 8 MiB ring of kernel memory, and a script that starts captures in a loop
// must not exhaust the machine's.
const maxCapturedLinks = 16

var (
	capturedMu sync.Mutex
	captured   = map[*lab.Lab]int{} // links under capture, per lab
)

// reserveLinks counts n more links under capture for l, within the limit.
func reserveLinks(l *lab.Lab, n int) error {
	capturedMu.Lock()
	defer capturedMu.Unlock()
	if captured[l]+n > maxCapturedLinks {
		return fmt.Errorf("%d links are under capture already, %d more would pass the limit of %d (each holds an 8 MiB kernel ring): stop a capture first",
			captured[l], n, maxCapturedLinks)
	}
	captured[l] += n
	return nil
}

func releaseLinks(l *lab.Lab, n int) {
	capturedMu.Lock()
	defer capturedMu.Unlock()
	if captured[l] -= n; captured[l] <= 0 {
		delete(captured, l)
	}
}

// luaCapture is a capture started by a script; the lab stops it at
// teardown if the script did not.
type luaCapture struct {
	lab   *lab.Lab
	c     *capture.Capture
	file  string
	links []string
	f     *os.File
	once  sync.Once
	err   error
}

func (k *luaCapture) String() string {
	if k.file == "" {
		return fmt.Sprintf("Capture(%s)", strings.Join(k.links, ", "))
	}
	return fmt.Sprintf("Capture(%s -> %s)", strings.Join(k.links, ", "), k.file)
}

// stop ends the capture and closes its file, once.
func (k *luaCapture) stop() error {
	k.once.Do(func() {
		k.err = k.c.Stop()
		releaseLinks(k.lab, len(k.links))
		if k.f != nil {
			if err := k.f.Close(); k.err == nil {
				k.err = err
			}
		}
	})
	return k.err
}

var captureFields = map[string]fieldFn{
	"file": func(rt *Runtime, L *lua.LState, v any) lua.LValue {
		if f := v.(*luaCapture).file; f != "" {
			return lua.LString(f)
		}
		return lua.LNil
	},
	"links": func(rt *Runtime, L *lua.LState, v any) lua.LValue {
		t := L.NewTable()
		for _, name := range v.(*luaCapture).links {
			t.Append(lua.LString(name))
		}
		return t
	},
}

func (rt *Runtime) captureMethods() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"stop": rt.captureStop, "count": rt.captureCount, "packets": rt.capturePackets, "wait": rt.captureWait,
	}
}

func (rt *Runtime) pushCapture(L *lua.LState, k *luaCapture) *lua.LUserData {
	if L.GetTypeMetatable(typeCapture) == lua.LNil { // made on first use: most labs capture nothing
		rt.registerType(L, typeCapture, captureFields, rt.captureMethods(), nil)
	}
	return rt.newUD(L, typeCapture, k)
}

func (rt *Runtime) linkCapture(L *lua.LState) int {
	c, k := linkMethod(L, "capture", 1)
	o := c.opts(2, "file", "filter", "count")
	L.Push(rt.startCapture(c, []capture.Target{linkTarget(c, k)}, o))
	return 1
}

func (rt *Runtime) nsCapture(L *lua.LState) int {
	c := newCall(L, "ns.capture", 1)
	o := c.opts(1, "links", "file", "filter", "count")
	list, ok := o.get("links").(*lua.LTable)
	if !ok || list.Len() == 0 {
		c.raise("option links must be a list of Links (or \"NS:LINK\" names), got %s", typeName(o.get("links")))
	}
	var targets []capture.Target
	for i := 1; i <= list.Len(); i++ {
		targets = append(targets, rt.targetValue(c, list.RawGetInt(i), fmt.Sprintf("links[%d]", i)))
	}
	L.Push(rt.startCapture(c, targets, o))
	return 1
}

func linkTarget(c call, k *lab.Link) capture.Target {
	fd, err := k.NS.Fd()
	c.check(err)
	return capture.Target{Name: k.NS.Name + ":" + k.Name, NsFd: fd, Link: k.Name}
}

// targetValue reads a Link, or an "NS:LINK" name ("host:eth0").
func (rt *Runtime) targetValue(c call, v lua.LValue, what string) capture.Target {
	if s, ok := v.(lua.LString); ok {
		i := strings.LastIndexByte(string(s), ':')
		if i <= 0 || i == len(s)-1 {
			c.raise("%s: %s is not NS:LINK (e.g. \"lab1:eth0\")", what, quote(string(s)))
		}
		ns, link := string(s[:i]), string(s[i+1:])
		var n *lab.Netns
		var err error
		if ns == "host" {
			n, err = rt.Lab.Host()
		} else {
			n = rt.netnsValue(c, lua.LString(ns), what)
		}
		c.check(err)
		k, err := n.Link(link)
		c.check(err)
		return linkTarget(c, k)
	}
	return linkTarget(c, rt.linkValue(c, v, what))
}

func (rt *Runtime) startCapture(c call, targets []capture.Target, o opts) *lua.LUserData {
	filter, _ := o.name("filter")
	count, _ := o.integer("count", 1, 1<<31)
	k := &luaCapture{lab: rt.Lab, links: make([]string, len(targets))}
	for i, t := range targets {
		k.links[i] = t.Name
	}
	opts := capture.Options{Filter: filter, Count: count, Keep: keepPackets}
	file, hasFile := o.name("file")
	if hasFile && file == "" {
		c.raise("option file must not be empty")
	}
	c.check(reserveLinks(rt.Lab, len(targets)))
	err := k.start(targets, opts, file)
	if err != nil {
		releaseLinks(rt.Lab, len(targets))
		c.check(err)
	}
	l := rt.Lab
	l.OnClose(func() {
		if err := k.stop(); err != nil {
			fmt.Fprintf(l.Log, "nslua: teardown: %s: %v\n", k, err)
		}
	})
	return rt.pushCapture(c.L, k)
}

// start opens the file, if any, and starts the capture; on failure
// nothing is left, not even a file it created.
func (k *luaCapture) start(targets []capture.Target, opts capture.Options, file string) error {
	created := false
	if file != "" {
		_, statErr := os.Stat(file)
		f, err := capture.CreateFile(file)
		if err != nil {
			return err
		}
		k.file, k.f, opts.Out, created = file, f, f, errors.Is(statErr, os.ErrNotExist)
	}
	var err error
	if k.c, err = capture.Start(targets, opts); err != nil && k.f != nil {
		k.f.Close()
		if created {
			os.Remove(k.file)
		}
	}
	return err
}

func captureMethod(L *lua.LState, name string, maxArgs int) (call, *luaCapture) {
	c := newMethodCall(L, "Capture:"+name, maxArgs)
	return c, self[*luaCapture](c, typeCapture)
}

func (rt *Runtime) captureStop(L *lua.LState) int {
	c, k := captureMethod(L, "stop", 0)
	c.check(k.stop())
	L.Push(lua.LNumber(k.c.Count()))
	return 1
}

func (rt *Runtime) captureCount(L *lua.LState) int {
	_, k := captureMethod(L, "count", 0)
	L.Push(lua.LNumber(k.c.Count()))
	return 1
}

func (rt *Runtime) captureWait(L *lua.LState) int {
	c, k := captureMethod(L, "wait", 1)
	select {
	case <-k.c.Done(): // already over: true even for a zero timeout
		L.Push(lua.LTrue)
		return 1
	default:
	}
	var timeout <-chan time.Time
	if L.Get(2) != lua.LNil {
		timer := time.NewTimer(c.seconds(c.num(2, "timeout"), "timeout"))
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case <-k.c.Done():
		L.Push(lua.LTrue)
	case <-timeout:
		L.Push(lua.LFalse)
	case <-ctxOf(L).Done():
		c.raise("interrupted")
	}
	return 1
}

func (rt *Runtime) capturePackets(L *lua.LState) int {
	_, k := captureMethod(L, "packets", 0)
	pkts := k.c.Packets()
	t := L.CreateTable(len(pkts), 0)
	for _, p := range pkts {
		e := L.CreateTable(0, 7)
		e.RawSetString("time", lua.LNumber(float64(p.Time.UnixNano())/1e9))
		e.RawSetString("iface", lua.LString(p.Iface))
		e.RawSetString("src", lua.LString(p.Src))
		e.RawSetString("dst", lua.LString(p.Dst))
		e.RawSetString("proto", lua.LString(p.Proto))
		e.RawSetString("length", lua.LNumber(p.Length))
		e.RawSetString("summary", lua.LString(p.Summary))
		t.Append(e)
	}
	L.Push(t)
	return 1
}

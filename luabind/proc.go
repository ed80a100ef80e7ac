package luabind

import (
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/lab"
)

var procFields = map[string]fieldFn{
	"pid": func(rt *Runtime, L *lua.LState, v any) lua.LValue { return lua.LNumber(v.(*lab.Proc).PID) },
	"ns":  func(rt *Runtime, L *lua.LState, v any) lua.LValue { return rt.pushNetns(L, v.(*lab.Proc).NS) },
	"log": func(rt *Runtime, L *lua.LState, v any) lua.LValue { return lua.LString(v.(*lab.Proc).Log) },
	"cmd": func(rt *Runtime, L *lua.LState, v any) lua.LValue {
		return lua.LString(strings.Join(v.(*lab.Proc).Argv, " "))
	},
}

func (rt *Runtime) procMethods() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"alive": rt.procAlive, "wait": rt.procWait, "kill": rt.procKill, "output": rt.procOutput,
	}
}

func procMethod(L *lua.LState, name string, maxArgs int) (call, *lab.Proc) {
	c := newMethodCall(L, "Proc:"+name, maxArgs)
	p := self[*lab.Proc](c, typeProc)
	return c, p
}

func (rt *Runtime) procAlive(L *lua.LState) int {
	_, p := procMethod(L, "alive", 0)
	L.Push(lua.LBool(p.Alive()))
	return 1
}

func (rt *Runtime) procWait(L *lua.LState) int {
	c, p := procMethod(L, "wait", 1)
	var timeout float64
	if L.Get(2) != lua.LNil {
		timeout = c.num(2, "timeout")
	}
	d := c.seconds(timeout, "timeout")
	if rt.pending() { // run the timeline while waiting
		var deadline time.Time
		if d > 0 {
			deadline = time.Now().Add(d)
		}
		expired, err := rt.waitTimers(L, ctxOf(L), p.Done(), deadline)
		if err != nil && ctxOf(L).Err() != nil {
			c.raise("interrupted")
		}
		c.check(err)
		if expired {
			L.Push(lua.LNil)
			return 1
		}
	}
	res, err := p.Wait(ctxOf(L), d)
	if err != nil {
		c.raise("interrupted")
	}
	if res == nil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(resultTable(L, res))
	return 1
}

func (rt *Runtime) procKill(L *lua.LState) int {
	c, p := procMethod(L, "kill", 1)
	sig := unix.SIGTERM
	switch v := L.Get(2).(type) {
	case *lua.LNilType:
	case lua.LNumber:
		if float64(v) != float64(int(v)) || v < 1 || v > 64 {
			c.raise("argument #1 (signal) must be a signal number 1..64, got %v", v)
		}
		sig = unix.Signal(int(v))
	case lua.LString:
		name := strings.ToUpper(string(v))
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		if sig = unix.SignalNum(name); sig == 0 {
			c.raise("argument #1 (signal): unknown signal %q", string(v))
		}
	default:
		c.bad(2, "signal", "a signal name or number", v)
	}
	c.check(p.Kill(sig))
	return 0
}

func (rt *Runtime) procOutput(L *lua.LState) int {
	_, p := procMethod(L, "output", 0)
	L.Push(lua.LString(p.Output()))
	return 1
}

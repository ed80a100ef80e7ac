package luabind

import (
	"context"
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// The timeline: ns.after and ns.every register Lua functions that run
// while the script waits (ns.sleep, ns.wait, p:wait, n:exec). Lua runs on
// one goroutine, so the timers never fire from another: the waiting call
// itself runs whatever is due, between its own checks.

const typeTimer = "Timer"

type timer struct {
	due     time.Time
	every   time.Duration // 0: once
	fn      *lua.LFunction
	ud      *lua.LUserData
	where   string // where the script set it, for errors
	what    string // "ns.after" or "ns.every"
	stopped bool
}

func (t *timer) String() string {
	state := "pending"
	if t.stopped {
		state = "done"
	}
	if t.every > 0 {
		return fmt.Sprintf("Timer(every %v, %s)", t.every, state)
	}
	return fmt.Sprintf("Timer(once, %s)", state)
}

type timeline struct {
	timers  []*timer
	running bool // a timer's function runs: waits inside it run no timers
}

func (rt *Runtime) nsAfter(L *lua.LState) int { return rt.addTimer(L, "ns.after", false) }
func (rt *Runtime) nsEvery(L *lua.LState) int { return rt.addTimer(L, "ns.every", true) }

func (rt *Runtime) addTimer(L *lua.LState, name string, repeat bool) int {
	c := newCall(L, name, 2)
	secs := c.num(1, "seconds")
	d := c.seconds(secs, "argument #1 (seconds)")
	if repeat && d < time.Millisecond {
		c.raise("argument #1 (seconds) must be at least 0.001, got %v", secs)
	}
	fn, ok := L.Get(2).(*lua.LFunction)
	if !ok {
		c.bad(2, "fn", "a function", L.Get(2))
	}
	t := &timer{due: time.Now().Add(d), fn: fn, what: name, where: strings.TrimSuffix(L.Where(1), ":")}
	if repeat {
		t.every = d
	}
	t.ud = rt.newUD(L, timerType(L), t)
	rt.tl.timers = append(rt.tl.timers, t)
	L.Push(t.ud)
	return 1
}

// timerType registers the Timer type on first use.
func timerType(L *lua.LState) string {
	if L.GetTypeMetatable(typeTimer) != lua.LNil {
		return typeTimer
	}
	mt := L.NewTypeMetatable(typeTimer)
	mt.RawSetString("__name", lua.LString(typeTimer))
	methods := L.SetFuncs(L.NewTable(), timerMethods())
	mt.RawSetString("__methods", methods)
	mt.RawSetString("__fields", L.NewTable())
	mt.RawSetString("__index", methods)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(L.CheckUserData(1).Value.(*timer).String()))
		return 1
	}))
	return typeTimer
}

func timerMethods() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{"cancel": timerCancel}
}

func timerCancel(L *lua.LState) int {
	c := newMethodCall(L, "Timer:cancel", 0)
	self[*timer](c, typeTimer).stopped = true
	return 0
}

// pending drops finished timers and reports whether any remain that a
// wait should run (none while a timer's function itself runs).
func (rt *Runtime) pending() bool {
	live := rt.tl.timers[:0]
	for _, t := range rt.tl.timers {
		if !t.stopped {
			live = append(live, t)
		}
	}
	clear(rt.tl.timers[len(live):])
	rt.tl.timers = live
	return len(live) > 0 && !rt.tl.running
}

// next is when the earliest timer is due.
func (rt *Runtime) next() time.Time {
	var first time.Time
	for _, t := range rt.tl.timers {
		if !t.stopped && (first.IsZero() || t.due.Before(first)) {
			first = t.due
		}
	}
	return first
}

// runDue calls every timer due now, earliest first, each once. A repeating
// timer that fell behind (the script was busy) skips the ticks it missed.
func (rt *Runtime) runDue(L *lua.LState) error {
	now := time.Now()
	var due []*timer
	for _, t := range rt.tl.timers {
		if !t.stopped && !t.due.After(now) {
			due = append(due, t)
		}
	}
	sortTimers(due)
	rt.tl.running = true
	defer func() { rt.tl.running = false }()
	for _, t := range due {
		if t.stopped { // cancelled by an earlier one
			continue
		}
		if t.every > 0 {
			for t.due = t.due.Add(t.every); !t.due.After(now); t.due = t.due.Add(t.every) {
			}
		} else {
			t.stopped = true
		}
		L.Push(t.fn)
		L.Push(t.ud)
		if err := L.PCall(1, 0, nil); err != nil {
			return fmt.Errorf("%s function (set at %s): %s", t.what, t.where, luaMessage(err))
		}
	}
	return nil
}

func sortTimers(ts []*timer) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].due.Before(ts[j-1].due); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// waitTimers blocks until done is closed, deadline passes (zero: none) or
// ctx ends, running due timers meanwhile. It returns expired = true when
// the deadline came first, and a timer function's error, if one raised.
func (rt *Runtime) waitTimers(L *lua.LState, ctx context.Context, done <-chan struct{}, deadline time.Time) (expired bool, err error) {
	for {
		if err := rt.runDue(L); err != nil {
			return false, err
		}
		wake := rt.next()
		if !deadline.IsZero() && (wake.IsZero() || deadline.Before(wake)) {
			wake = deadline
		}
		var tick <-chan time.Time
		var t *time.Timer
		if !wake.IsZero() {
			t = time.NewTimer(time.Until(wake))
			tick = t.C
		}
		select {
		case <-done:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		case <-tick:
			if !deadline.IsZero() && !time.Now().Before(deadline) {
				return true, nil
			}
		}
		if t != nil {
			t.Stop()
		}
	}
}

// background runs fn (which must not touch the Lua state) on another
// goroutine while this one runs the timers; a timer's error cancels fn's
// context, waits for fn to return, and is returned.
func (rt *Runtime) background(L *lua.LState, fn func(ctx context.Context)) error {
	ctx, cancel := context.WithCancel(ctxOf(L))
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	_, err := rt.waitTimers(L, context.Background(), done, time.Time{})
	if err != nil {
		cancel()
		<-done
	}
	return err
}

// luaMessage is a Lua error's message without gopher-lua's stack trace.
func luaMessage(err error) string {
	if e, ok := err.(*lua.ApiError); ok && e.Object != nil {
		return e.Object.String()
	}
	return err.Error()
}

package luabind

import (
	"context"
	"errors"
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// deferError is a failed ns.defer function.
type deferError struct{ err error }

func (e *deferError) Error() string { return "ns.defer function: " + e.err.Error() }
func (e *deferError) Unwrap() error { return e.err }

// runDefers calls the ns.defer functions, newest first. Each gets
// DeferTimeout; a signal during the teardown ends the one running and
// skips the rest; one that fails does not keep the others from running.
func (r *Run) runDefers() []error {
	defers := r.RT.takeDefers()
	if len(defers) == 0 {
		return nil
	}
	all, done := r.phase(context.Background())
	defer done()
	timeout := r.opts.DeferTimeout
	var errs []error
	for i := len(defers) - 1; i >= 0; i-- {
		if all.Err() != nil {
			errs = append(errs, fmt.Errorf("%d ns.defer function(s) not run: %v", i+1, all.Err()))
			break
		}
		ctx, cancel := context.WithTimeoutCause(all, timeout,
			&stopError{fmt.Sprintf("ns.defer function stopped: still running after %v", timeout)})
		err := r.pcall(causeCtx{ctx}, defers[i], nil)
		cancel()
		if err != nil {
			errs = append(errs, &deferError{err})
		}
	}
	return errs
}

// takeDefers hands over the functions given to ns.defer.
func (rt *Runtime) takeDefers() []*lua.LFunction {
	d := rt.defers
	rt.defers = nil
	return d
}

// replaceOsExit makes os.exit tear the lab down before the process ends:
// gopher-lua's own calls os.Exit at once and would leave everything the
// script built in place. Like Lua's, it does not unwind (pcall cannot
// catch it); os.exit(true/false) means 0/1, as in Lua 5.2.
func (r *Run) replaceOsExit() {
	osMod, ok := r.L.GetGlobal("os").(*lua.LTable)
	if !ok {
		return
	}
	osMod.RawSetString("exit", r.L.NewFunction(func(L *lua.LState) int {
		code := 0
		switch v := L.Get(1).(type) {
		case *lua.LNilType:
		case lua.LBool:
			if !v {
				code = 1
			}
		case lua.LNumber:
			code = int(v)
		default:
			L.ArgError(1, "number or boolean expected, got "+v.Type().String())
		}
		if r.isTearing() { // from an ns.defer function: the teardown is under way
			L.RaiseError("os.exit: called during teardown; the teardown goes on")
		}
		r.mu.Lock()
		r.inExit = true // L is running this function: Close leaves it open
		r.mu.Unlock()
		if errs := r.Close(); len(errs) > 0 && code == 0 {
			code = 1
		}
		r.opts.Exit(code)
		return 0
	}))
}

// IsStop reports whether err is Lua code being stopped (a signal, the
// memory limit, a deadline) rather than failing by itself.
func IsStop(err error) bool {
	var se *stopError
	return errors.As(err, &se)
}

package luabind

import (
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"

	"github.com/nslua/nslua/internal/lab"
)

// readiness is spawn's opts.ready, checked before anything starts: a
// function that makes the condition for the process once it runs, and
// what the error calls the condition.
type readiness struct {
	check func(p *lab.Proc) lab.ReadyFunc
	what  string
}

// readyOpt reads opts.ready: a Lua pattern for a log line, {port=, proto=}
// for a listening socket, or a function polled until it returns true.
func (rt *Runtime) readyOpt(c call, o opts) (readiness, bool) {
	switch v := o.get("ready").(type) {
	case *lua.LNilType:
		return readiness{}, false
	case lua.LString:
		return logReadiness(c, string(v)), true
	case *lua.LTable:
		return portReadiness(c, v), true
	case *lua.LFunction:
		return rt.fnReadiness(c, v), true
	default:
		o.badOpt("ready", "a Lua pattern, a table {port=, proto=} or a function", v)
	}
	return readiness{}, false
}

func logReadiness(c call, pattern string) readiness {
	if _, err := pm.Find(pattern, nil, 0, 1); err != nil {
		c.raise("option ready: bad Lua pattern %q: %v", pattern, err)
	}
	match := func(line string) bool {
		m, err := pm.Find(pattern, []byte(line), 0, 1)
		return err == nil && len(m) > 0
	}
	return readiness{
		check: func(p *lab.Proc) lab.ReadyFunc { return p.LogLine(match) },
		what:  fmt.Sprintf("no log line matched %q", pattern),
	}
}

func portReadiness(c call, t *lua.LTable) readiness {
	port, proto := 0, "tcp"
	t.ForEach(func(k, v lua.LValue) {
		switch lua.LVAsString(k) {
		case "port":
			n, ok := v.(lua.LNumber)
			if !ok || float64(n) != float64(int(n)) || n < 1 || n > 65535 {
				c.raise("option ready.port must be a port number 1..65535, got %s", lua.LVAsString(v))
			}
			port = int(n)
		case "proto":
			s, _ := v.(lua.LString)
			if s != "tcp" && s != "udp" {
				c.raise("option ready.proto must be \"tcp\" or \"udp\", got %s", lua.LVAsString(v))
			}
			proto = string(s)
		default:
			c.raise("option ready: unknown key %q (known: port, proto)", lua.LVAsString(k))
		}
	})
	if port == 0 {
		c.raise("option ready: a table needs port (and proto, default \"tcp\")")
	}
	return readiness{
		check: func(p *lab.Proc) lab.ReadyFunc { return p.Listening(proto, port) },
		what:  fmt.Sprintf("nothing listens on %s port %d in its namespace", proto, port),
	}
}

// fnReadiness calls fn(proc) at most every 100 ms (it may well run a
// program each time) until it returns a true value; an error in it is
// raised as it is.
func (rt *Runtime) fnReadiness(c call, fn *lua.LFunction) readiness {
	L := c.L
	return readiness{
		check: func(p *lab.Proc) lab.ReadyFunc {
			var last time.Time
			return func(exited bool) (bool, error) {
				if exited || time.Since(last) < 100*time.Millisecond {
					return false, nil
				}
				last = time.Now()
				L.Push(fn)
				L.Push(rt.newUD(L, typeProc, p))
				if err := L.PCall(1, 1, nil); err != nil {
					return false, readyFnError{err}
				}
				ok := lua.LVAsBool(L.Get(-1))
				L.Pop(1)
				return ok, nil
			}
		},
		what: "the ready function never returned true",
	}
}

// readyFnError is an error raised by a ready function: passed on as it
// is, not as a failure of the check.
type readyFnError struct{ err error }

func (e readyFnError) Error() string { return strings.TrimSpace(e.err.Error()) }

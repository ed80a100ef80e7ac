package repl

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// newTestLua is a plain Lua state with a stand-in for the nslua module: a
// global table ns (add/open/list) and a userdata type whose methods live
// in its metatable's __index table, as luabind's objects do.
func newTestLua() *lua.LState {
	L := lua.NewState()
	mt := L.NewTypeMetatable("testNetns")
	methods := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"exec": func(L *lua.LState) int {
			res := L.NewTable()
			res.RawSetString("code", lua.LNumber(0))
			res.RawSetString("stdout", lua.LString(L.CheckString(2)))
			L.Push(res)
			return 1
		},
		"delete": func(L *lua.LState) int { return 0 },
		"veth":   func(L *lua.LState) int { return 0 },
	})
	methods.RawSetString("kind", lua.LString("netns")) // a field, not a method
	L.SetField(mt, "__index", methods)
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		ud := L.CheckUserData(1)
		L.Push(lua.LString("Netns(" + ud.Value.(string) + ")"))
		return 1
	}))
	newNetns := func(L *lua.LState) int {
		ud := L.NewUserData()
		ud.Value = L.CheckString(1)
		ud.Metatable = mt
		L.Push(ud)
		return 1
	}
	ns := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"add":  newNetns,
		"open": newNetns,
		"list": func(L *lua.LState) int {
			t := L.NewTable()
			t.Append(lua.LString("lab1"))
			t.Append(lua.LString("lab2"))
			L.Push(t)
			return 1
		},
	})
	L.SetGlobal("ns", ns)
	L.SetGlobal("lnk", newFieldStyleObject(L))
	return L
}

// newFieldStyleObject is a userdata the way luabind builds them: __index
// is a function that serves fields and methods, and the metatable lists
// them in __methods (a table) and __fields (names) for completion.
func newFieldStyleObject(L *lua.LState) *lua.LUserData {
	mt := L.NewTypeMetatable("testLink")
	methods := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"up":   func(L *lua.LState) int { return 0 },
		"down": func(L *lua.LState) int { return 0 },
		"addr": func(L *lua.LState) int { return 0 },
	})
	fields := L.NewTable()
	for _, f := range []string{"index", "kind", "name"} {
		fields.Append(lua.LString(f))
	}
	mt.RawSetString("__methods", methods)
	mt.RawSetString("__fields", fields)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		key := L.CheckString(2)
		if key == "name" {
			L.Push(lua.LString("veth0"))
			return 1
		}
		L.Push(methods.RawGetString(key))
		return 1
	}))
	ud := L.NewUserData()
	ud.Value = "veth0"
	ud.Metatable = mt
	return ud
}

// runPiped runs input through a non-interactive Run and returns what it
// printed on Out and Err.
func runPiped(t *testing.T, input string) (out, errOut string, err error) {
	t.Helper()
	L := newTestLua()
	defer L.Close()
	var o, e bytes.Buffer
	err = Run(L, Config{In: strings.NewReader(input), Out: &o, Err: &e})
	return o.String(), e.String(), err
}

// runAsync runs Run in the background on a pipe, for tests that feed
// input over time; done yields Run's result.
func runAsync(t *testing.T, L *lua.LState, cfg Config) (in *io.PipeWriter, done <-chan error) {
	t.Helper()
	r, w := io.Pipe()
	cfg.In = r
	ch := make(chan error, 1)
	go func() { ch <- Run(L, cfg) }()
	t.Cleanup(func() { w.Close() })
	return w, ch
}

// syncBuffer is a bytes.Buffer safe to write from Run's goroutine while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// pipe is an io.Pipe closed when the test ends.
func pipe(t *testing.T) (*io.PipeReader, *io.PipeWriter) {
	r, w := io.Pipe()
	t.Cleanup(func() { w.Close() })
	return r, w
}

// waitFor polls until b holds want or the time is up.
func waitFor(t *testing.T, b *syncBuffer, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %v; got %q", want, within, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

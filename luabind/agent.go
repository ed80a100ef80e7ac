package luabind

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
	"github.com/nslua/nslua/internal/remote"
	"github.com/nslua/nslua/internal/repl"
)

// Version is nslua's version, set by cmd/nslua: the agent's handshake
// compares it with the controller's.
var Version = "dev"

// agent serves a controller: it calls methods of the objects of its own
// run's Lua state for it. Objects it hands out are numbered handles.
type agent struct {
	r       *Run
	conn    *remote.Conn
	handles []*lua.LUserData // handle i+1
	ids     map[*lua.LUserData]int
	cd      codec
}

// ServeAgent speaks the agent's side of the protocol on in and out for r
// until in ends (the controller closed it, or ssh was lost) or r is
// stopped by a signal; a call still running then is interrupted. The
// caller then finishes r and sends the report (SendBye).
func ServeAgent(r *Run, in io.Reader, out io.Writer) error {
	a := &agent{r: r, conn: remote.NewConn(in, out), ids: map[*lua.LUserData]int{}}
	a.cd = codec{object: a.object, handle: a.handle}
	msgs := make(chan *remote.Msg)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		defer close(msgs)
		for {
			m, err := a.conn.Recv()
			if err != nil {
				cancel(&stopError{msg: "the controller's connection closed"})
				return
			}
			msgs <- m
		}
	}()
	if err := a.hello(<-msgs); err != nil {
		return err
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				return nil
			}
			reply := a.serve(ctx, m)
			reply.ID = m.ID
			if err := a.conn.Send(reply); err != nil {
				return fmt.Errorf("agent: send: %w", err)
			}
		case <-tick.C: // a signal stopped the run while it waited
			if r.Stopped() != nil {
				return nil
			}
		}
	}
}

// SendBye sends the agent's last message: the exit status of its run.
func SendBye(out io.Writer, code int) error {
	return remote.NewConn(nil, out).Send(&remote.Msg{Op: remote.OpBye, Code: code})
}

func (a *agent) hello(m *remote.Msg) error {
	if m == nil {
		return errors.New("agent: the controller closed the connection before its handshake")
	}
	build, err := remote.Build()
	if err != nil {
		return err
	}
	bin, _ := os.Executable()
	reply := &remote.Msg{ID: m.ID, Version: Version, Build: build, Proto: remote.Proto, SSH: os.Getenv("SSH_CONNECTION"), Bin: bin}
	if m.Op != remote.OpHello {
		err = fmt.Errorf("agent: the first message must be %s, got %q", remote.OpHello, m.Op)
	} else if err = remote.CheckHello(m.Version, m.Build, reply); err != nil {
		err = fmt.Errorf("agent: %w", err)
	}
	if err != nil {
		reply.Err = err.Error()
	}
	if serr := a.conn.Send(reply); serr != nil && err == nil {
		err = serr
	}
	return err
}

func (a *agent) serve(ctx context.Context, m *remote.Msg) *remote.Msg {
	switch m.Op {
	case remote.OpCall, remote.OpGet:
		results, err := a.call(ctx, m)
		if err != nil {
			return &remote.Msg{Err: err.Error()}
		}
		return &remote.Msg{Results: results}
	case remote.OpUnderlay:
		dev, local, mtu, err := remote.Underlay(m.Peer, m.Dev)
		if err != nil {
			return &remote.Msg{Err: err.Error()}
		}
		return &remote.Msg{Dev: dev, Local: local, MTU: mtu}
	}
	return &remote.Msg{Err: fmt.Sprintf("agent: unknown operation %q", m.Op)}
}

// call runs one method call (or field read) as the run's code: a signal
// or the controller's end interrupts it.
func (a *agent) call(ctx context.Context, m *remote.Msg) ([]remote.Value, error) {
	var results []lua.LValue
	fn := a.r.L.NewFunction(func(L *lua.LState) int {
		results = a.invoke(L, m)
		return 0
	})
	pctx, done := a.r.phase(ctx)
	err := a.r.pcall(pctx, fn, nil)
	done()
	if err != nil {
		return nil, errors.New(repl.ErrorMessage(err))
	}
	return a.cd.encodeAll(results)
}

// invoke finds the target and its method and calls it on L; errors are
// raised as Lua errors.
func (a *agent) invoke(L *lua.LState, m *remote.Msg) []lua.LValue {
	args, err := a.cd.decodeAll(L, m.Args)
	if err != nil {
		L.RaiseError("agent: %s: arguments: %v", m.Method, err)
	}
	var fn lua.LValue
	if m.Target == 0 {
		fn = L.GetField(L.GetGlobal("ns"), m.Method)
	} else {
		self, err := a.handle(remote.Value{H: m.Target})
		if err != nil {
			L.RaiseError("agent: %v", err)
		}
		if m.Op == remote.OpGet {
			return []lua.LValue{L.GetField(self, m.Method)}
		}
		fn = L.GetField(self, m.Method)
		args = append([]lua.LValue{self}, args...)
	}
	if _, ok := fn.(*lua.LFunction); !ok {
		L.RaiseError("agent: there is no method %s", m.Method)
	}
	top := L.GetTop()
	L.Push(fn)
	for _, v := range args {
		L.Push(v)
	}
	L.Call(len(args), lua.MultRet)
	var out []lua.LValue
	for i := top + 1; i <= L.GetTop(); i++ {
		out = append(out, L.Get(i))
	}
	L.SetTop(top)
	return out
}

// object makes a handle of an object the agent's state returned.
func (a *agent) object(ud *lua.LUserData) (remote.Value, error) {
	id, ok := a.ids[ud]
	if !ok {
		a.handles = append(a.handles, ud)
		id = len(a.handles)
		a.ids[ud] = id
	}
	v := remote.Value{T: "h", H: id, Type: typeName(ud), Label: typeName(ud)}
	if s, ok := ud.Value.(fmt.Stringer); ok {
		v.Label = s.String()
	}
	switch o := ud.Value.(type) {
	case *lab.Netns:
		v.Name = o.Name
	case *lab.Link:
		v.Name = o.Name
	default:
		v.Name = v.Label
	}
	if mt, ok := ud.Metatable.(*lua.LTable); ok {
		if f, ok := mt.RawGetString("__fields").(*lua.LTable); ok {
			f.ForEach(func(_, name lua.LValue) { v.Fields = append(v.Fields, name.String()) })
		}
		if ms, ok := mt.RawGetString("__methods").(*lua.LTable); ok {
			ms.ForEach(func(name, _ lua.LValue) { v.Methods = append(v.Methods, name.String()) })
			sort.Strings(v.Methods)
		}
	}
	return v, nil
}

func (a *agent) handle(v remote.Value) (lua.LValue, error) {
	if v.H < 1 || v.H > len(a.handles) {
		return nil, fmt.Errorf("no object with handle %d on this host", v.H)
	}
	return a.handles[v.H-1], nil
}

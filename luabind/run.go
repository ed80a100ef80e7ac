package luabind

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
	"github.com/nslua/nslua/internal/repl"
)

// DefaultDeferTimeout bounds each ns.defer function at teardown: one that
// is still running then is stopped, and the teardown goes on.
const DefaultDeferTimeout = 10 * time.Second

// stuckGrace is how long a Lua call may take to come back after its
// context ended. Only a Go function that ignores the context (io.read on a
// terminal, os.execute) takes longer; the run then goes on without it.
const stuckGrace = 10 * time.Second

// RunOptions configure a Run.
type RunOptions struct {
	Lab       string    // the lab's name
	Script    string    // the script's path, for the journal and arg[0] ("" = none)
	ScriptDir string    // searched first by require ("" = none)
	Keep      bool      // leave the lab up at the end (ns.keep)
	Log       io.Writer // errors and the teardown's report; nil = os.Stderr
	Out       io.Writer // help() prints here; nil = os.Stdout
	// Signals makes the run take SIGINT, SIGTERM and SIGHUP (ns.wait, the
	// REPL's Ctrl-C, ending the run) and SIGPIPE: for the command line.
	Signals bool
	// Reaper makes this process the child subreaper of what the run starts
	// and sweeps what was left orphaned at the end. It is process-wide: for
	// a process that holds one run at a time (the command line).
	Reaper bool
	// MemoryLimit bounds the process's Go heap, where Lua's values live
	// (bytes, 0 = no limit): beyond it the running Lua code fails with "out
	// of memory" and the run tears down. It sets the process's Go memory
	// limit too: for a process that holds one run (the command line).
	MemoryLimit  int64
	DeferTimeout time.Duration  // 0 = DefaultDeferTimeout
	SSHConfig    string         // ssh_config of hosts that name none (--ssh-config)
	HostsFile    string         // hosts to reach before the script runs (--hosts)
	Exit         func(code int) // how os.exit ends the process; nil = os.Exit
}

// Run owns one lab run from start to close: the lab (lock and journal),
// the Lua state with the module in it, the chunks it runs, ns.defer, the
// os.exit hook, signals, the memory limit, error reports and the teardown.
// The command line, the REPL, the tests and the fuzz target all use it.
type Run struct {
	L   *lua.LState
	RT  *Runtime
	Lab *lab.Lab

	opts RunOptions
	log  io.Writer
	sigs *signals
	mem  *memWatch

	mu        sync.Mutex
	cancel    context.CancelCauseFunc // ends the Lua code running now
	stopped   error                   // why the run was stopped (signal, memory)
	signal    os.Signal               // the signal that stopped it
	tearing   bool                    // the teardown has begun
	abandoned bool                    // a Lua call did not come back: L is left alone
	inExit    bool                    // os.exit is closing the run

	once     sync.Once
	tornDown []error
}

// luaOptions start the Lua state small and let it grow: the defaults
// allocate the whole value stack (5120 slots) and call stack (256 frames)
// up front, half of lua.NewState's time, which a short run never uses. The
// limits are gopher-lua's defaults.
var luaOptions = lua.Options{
	IncludeGoStackTrace: true,
	MinimizeStackMemory: true,
	RegistrySize:        1024,
	RegistryMaxSize:     lua.RegistrySize,
	RegistryGrowStep:    256,
}

// StartRun starts lab o.Lab and a Lua state bound to it.
func StartRun(o RunOptions) (*Run, error) {
	if o.Log == nil {
		o.Log = os.Stderr
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.DeferTimeout <= 0 {
		o.DeferTimeout = DefaultDeferTimeout
	}
	if o.Exit == nil {
		o.Exit = os.Exit
	}
	l, err := lab.Start(o.Lab, o.Script, o.Log)
	if err != nil {
		return nil, err
	}
	r := &Run{Lab: l, opts: o, log: o.Log}
	r.L = lua.NewState(luaOptions)
	r.RT = New(l)
	r.RT.ScriptDir, r.RT.Out, r.RT.SSHConfig = o.ScriptDir, o.Out, o.SSHConfig
	r.RT.Open(r.L)
	r.replaceOsExit()
	if o.Signals {
		r.sigs = newSignals(r)
		r.RT.WaitSignal = r.sigs.wait
	}
	if o.Reaper {
		startReaping()
	}
	if o.MemoryLimit > 0 {
		r.limitMemory(o.MemoryLimit)
	}
	if o.HostsFile != "" {
		if err := r.RT.hostsFromFile(o.HostsFile); err != nil {
			r.Close()
			return nil, err
		}
	}
	if o.Keep {
		if err := l.Keep(); err != nil {
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

// SetArgs sets the global arg: arg[0] is the script (or "-e"), 1.. args.
func (r *Run) SetArgs(arg0 string, args []string) {
	t := r.L.NewTable()
	if arg0 != "" {
		t.RawSetInt(0, lua.LString(arg0))
	}
	for i, a := range args {
		t.RawSetInt(i+1, lua.LString(a))
	}
	r.L.SetGlobal("arg", t)
}

// DoFile runs a script with args as `...`.
func (r *Run) DoFile(path string, args []string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, errors.Unwrap(err))
	}
	return r.DoString(string(src), path, args)
}

// DoString compiles code as chunk name and runs it with args as `...`,
// until it returns, fails, or a signal or the memory limit stops it.
func (r *Run) DoString(code, name string, args []string) error {
	fn, err := r.L.Load(strings.NewReader(code), name)
	if err != nil {
		return err
	}
	vals := make([]lua.LValue, len(args))
	for i, a := range args {
		vals[i] = lua.LString(a)
	}
	return r.Call(fn, vals...)
}

// Call runs fn(args...) as the run's main code: a signal or the memory
// limit stops it.
func (r *Run) Call(fn *lua.LFunction, args ...lua.LValue) error {
	ctx, done := r.phase(context.Background())
	defer done()
	return r.pcall(ctx, fn, args)
}

// Stopped is why the run was stopped early (a signal, the memory limit),
// or nil.
func (r *Run) Stopped() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopped
}

// stop ends the Lua code running now, for cause; the first cause is the
// run's. During the teardown it ends the defers.
func (r *Run) stop(cause error, sig os.Signal) {
	r.mu.Lock()
	if r.stopped == nil {
		r.stopped, r.signal = cause, sig
	}
	cancel := r.cancel
	r.mu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
}

// phase makes the context Lua code runs under until done is called: one
// that stop cancels, with the stop's cause as the error Lua sees.
func (r *Run) phase(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	r.mu.Lock()
	prev, stopped := r.cancel, r.stopped
	r.cancel = cancel
	r.mu.Unlock()
	if stopped != nil && !r.isTearing() {
		cancel(stopped)
	}
	return causeCtx{ctx}, func() {
		r.mu.Lock()
		r.cancel = prev
		r.mu.Unlock()
		cancel(nil)
	}
}

func (r *Run) isTearing() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tearing
}

// pcall calls fn on L under ctx. When ctx ends and fn does not come back
// (it is blocked in a Go function that does not watch the context), the
// run goes on without it, and L is not touched again.
func (r *Run) pcall(ctx context.Context, fn *lua.LFunction, args []lua.LValue) error {
	r.mu.Lock()
	abandoned := r.abandoned
	r.mu.Unlock()
	if abandoned {
		return errors.New("the Lua state is still busy with code that did not stop")
	}
	done := make(chan error, 1)
	go func() {
		L := r.L
		prev := L.Context() // a call from os.exit is nested in another
		L.SetContext(ctx)
		top := L.GetTop()
		L.Push(fn)
		for _, a := range args {
			L.Push(a)
		}
		err := L.PCall(len(args), 0, nil)
		L.SetTop(top)
		if prev != nil {
			L.SetContext(prev)
		} else {
			L.RemoveContext()
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-done:
		return err
	case <-time.After(stuckGrace):
		r.mu.Lock()
		r.abandoned = true
		r.mu.Unlock()
		return fmt.Errorf("%v; the code did not stop within %v (it is blocked in a Go function), so the run goes on without it", ctx.Err(), stuckGrace)
	}
}

// causeCtx reports the cause of its end as its error: that is the error
// message Lua code sees ("x.lua:5: out of memory: ...") when the VM stops.
type causeCtx struct{ context.Context }

func (c causeCtx) Err() error {
	if c.Context.Err() == nil {
		return nil
	}
	return context.Cause(c.Context)
}

// stopError is why Lua code was stopped; it counts as a cancellation.
type stopError struct{ msg string }

func (e *stopError) Error() string { return e.msg }
func (e *stopError) Unwrap() error { return context.Canceled }

// Report prints err as nslua reports errors: "nslua: FILE:LINE: why".
func (r *Run) Report(err error) {
	fmt.Fprintf(r.log, "nslua: %s\n", repl.ErrorMessage(err))
}

// Finish reports runErr (or the signal that stopped the run), tears the
// lab down, closes the Lua state and returns the exit status: 0, 1 for an
// error (in the run, a defer or the teardown), 128+N for signal N.
func (r *Run) Finish(runErr error) int {
	code := 0
	r.mu.Lock()
	sig, stopped := r.signal, r.stopped
	r.mu.Unlock()
	switch {
	case sig != nil:
		code = exitCodeFor(sig)
		fmt.Fprintf(r.log, "nslua: lab %s: %v, tearing down\n", r.Lab.Name, sig)
	case runErr != nil:
		code = 1
		r.Report(runErr)
	case stopped != nil:
		code = 1
		fmt.Fprintf(r.log, "nslua: lab %s: %v\n", r.Lab.Name, stopped)
	}
	if errs := r.Close(); len(errs) > 0 && code == 0 {
		code = 1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.signal != nil { // also one that cut the teardown short
		code = exitCodeFor(r.signal)
	}
	return code
}

// Close runs the teardown once: the ns.defer functions, newest first,
// each under DeferTimeout, then the lab's own teardown; then it closes the
// Lua state. It returns every problem, each already reported on Log.
func (r *Run) Close() []error {
	r.once.Do(func() {
		r.tornDown = r.teardown()
		r.mu.Lock()
		leaveOpen := r.abandoned || r.inExit
		r.mu.Unlock()
		if !leaveOpen {
			r.L.Close()
		}
		r.sigs.close()
		r.mem.close()
	})
	return r.tornDown
}

func (r *Run) teardown() []error {
	r.mu.Lock()
	r.tearing = true
	r.mu.Unlock()
	errs := r.runDefers()
	for _, err := range errs {
		var de *deferError
		if errors.As(err, &de) {
			fmt.Fprintf(r.log, "nslua: teardown: ns.defer function: %s\n", repl.ErrorMessage(de.err))
		} else {
			fmt.Fprintf(r.log, "nslua: teardown: %s\n", repl.ErrorMessage(err))
		}
	}
	kept := r.Lab.Kept()
	errs = append(errs, r.Lab.Close()...)
	// A kept lab's daemons stay up, and so do theirs; a run that started
	// no process has no orphans to look for.
	if r.opts.Reaper && !kept && r.Lab.StartedProcesses() {
		errs = append(errs, sweepOrphans(r.log)...)
	}
	if kept {
		fmt.Fprintf(r.log, "nslua: lab %s kept; `nslua down %s` removes it\n", r.Lab.Name, r.Lab.Name)
	}
	return errs
}

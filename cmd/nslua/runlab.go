package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
	"golang.org/x/term"

	"github.com/nslua/nslua/internal/lab"
	"github.com/nslua/nslua/internal/repl"
	"github.com/nslua/nslua/luabind"
)

type runOpts struct {
	script      string
	code        string // -e
	hasCode     bool
	interactive bool // -i, or no script at all
	keep        bool
	lab         string
	args        []string

	// Set by `nslua test` for the child that runs one test file.
	testRun        string // the test to run
	testList       bool   // list the file's tests instead
	testPrefix     string // put before namespace names
	testKeepFailed bool
}

func parseRunArgs(args []string) (*runOpts, error) {
	o := &runOpts{}
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "--keep":
			o.keep = true
		case a == "-i":
			o.interactive = true
		case a == "-e" || a == "--lab":
			if len(args) < 2 {
				return nil, usageErr("%s needs an argument", a)
			}
			if a == "-e" {
				o.code, o.hasCode = args[1], true
			} else {
				o.lab = args[1]
			}
			args = args[1:]
		case strings.HasPrefix(a, "--lab="):
			o.lab = strings.TrimPrefix(a, "--lab=")
		case strings.HasPrefix(a, "--test-run="):
			o.testRun = strings.TrimPrefix(a, "--test-run=")
		case strings.HasPrefix(a, "--test-prefix="):
			o.testPrefix = strings.TrimPrefix(a, "--test-prefix=")
		case a == "--test-list":
			o.testList = true
		case a == "--test-keep-failed":
			o.testKeepFailed = true
		case a == "--":
			args = args[1:]
			goto positional
		case strings.HasPrefix(a, "-") && a != "-":
			return nil, usageErr("unknown option %s", a)
		default:
			goto positional
		}
		args = args[1:]
	}
positional:
	if len(args) > 0 && !o.hasCode {
		o.script, o.args = args[0], args[1:]
	} else if len(args) > 0 {
		o.args = args
	}
	if o.interactive && o.script == "" && !o.hasCode {
		return nil, usageErr("-i needs a script")
	}
	if o.script == "" && !o.hasCode {
		o.interactive = true
	}
	if o.lab == "" {
		o.lab = defaultLabName(o)
	}
	return o, nil
}

func defaultLabName(o *runOpts) string {
	switch {
	case o.script != "":
		return strings.TrimSuffix(filepath.Base(o.script), ".lua")
	case o.hasCode:
		return fmt.Sprintf("e-%d", os.Getpid())
	}
	return fmt.Sprintf("repl-%d", os.Getpid())
}

// signals routes SIGINT/SIGTERM/SIGHUP: to ns.wait when it waits, to the
// REPL's running statement (SIGINT only), otherwise it stops the run.
type signals struct {
	ch         chan os.Signal
	mu         sync.Mutex
	waiters    []chan os.Signal
	interrupts chan struct{} // REPL statement cancel, nil outside the REPL
	got        os.Signal
	cancel     context.CancelFunc
}

func newSignals(cancel context.CancelFunc) *signals {
	s := &signals{ch: make(chan os.Signal, 4), cancel: cancel}
	// SIGPIPE is taken too, and dropped: by default Go dies of it when
	// stdout is a closed pipe (`nslua lab.lua | head -1`), skipping the
	// teardown. Taken, it only makes that write fail. (Ignoring it instead
	// would be inherited by every program the lab runs.)
	signal.Notify(s.ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	go s.loop()
	return s
}

func (s *signals) loop() {
	for sig := range s.ch {
		if sig == syscall.SIGPIPE {
			continue
		}
		s.mu.Lock()
		switch {
		case len(s.waiters) > 0:
			for _, w := range s.waiters {
				w <- sig
			}
			s.waiters = nil
		case sig == syscall.SIGINT && s.interrupts != nil:
			select {
			case s.interrupts <- struct{}{}:
			default:
			}
		default:
			if s.got == nil {
				s.got = sig
			}
			s.cancel()
		}
		s.mu.Unlock()
	}
}

func (s *signals) received() os.Signal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

// wait is ns.wait: it takes the next signal for itself.
func (s *signals) wait(ctx context.Context) error {
	w := make(chan os.Signal, 1)
	s.mu.Lock()
	s.waiters = append(s.waiters, w)
	s.mu.Unlock()
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func exitCodeFor(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

func runLab(o *runOpts) error {
	var src []byte
	if o.script != "" {
		var err error
		if src, err = os.ReadFile(o.script); err != nil {
			return &exitError{code: 1, msg: fmt.Sprintf("%s: %v", o.script, errors.Unwrap(err))}
		}
	}
	l, err := lab.Start(o.lab, o.script, os.Stderr)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := newSignals(cancel)

	L := lua.NewState(lua.Options{IncludeGoStackTrace: true})
	rt := luabind.New(l)
	rt.WaitSignal = sigs.wait
	if o.script != "" {
		rt.ScriptDir = filepath.Dir(o.script)
	} else {
		rt.ScriptDir, _ = os.Getwd()
	}
	rt.NamePrefix = o.testPrefix
	rt.Open(L)
	td := &teardown{L: L, rt: rt, l: l}
	replaceOsExit(L, td)
	setArgs(L, o)
	if o.keep {
		l.Keep()
	}

	runErr := runChunks(L, o, src, ctx, sigs, l)
	if o.testRun != "" || o.testList {
		L.SetContext(ctx)
		runTestChild(L, rt, o, l, runErr)
		runErr = nil
	}
	return finish(td, runErr, sigs)
}

func setArgs(L *lua.LState, o *runOpts) {
	arg := L.NewTable()
	switch {
	case o.script != "":
		arg.RawSetInt(0, lua.LString(o.script))
	case o.hasCode:
		arg.RawSetInt(0, lua.LString("-e"))
	}
	for i, a := range o.args {
		arg.RawSetInt(i+1, lua.LString(a))
	}
	L.SetGlobal("arg", arg)
}

func runChunks(L *lua.LState, o *runOpts, src []byte, ctx context.Context, sigs *signals, l *lab.Lab) error {
	L.SetContext(ctx)
	var err error
	switch {
	case o.hasCode:
		err = doChunk(L, o.code, "-e", o.args)
	case o.script != "":
		err = doChunk(L, string(src), "@"+o.script, o.args)
	}
	L.RemoveContext()
	if err != nil || !o.interactive || sigs.received() != nil {
		return err
	}
	return runREPL(L, sigs, l)
}

// doChunk compiles and runs a chunk with its arguments as `...`.
func doChunk(L *lua.LState, code, name string, args []string) error {
	fn, err := L.Load(strings.NewReader(code), strings.TrimPrefix(name, "@"))
	if err != nil {
		return err
	}
	L.Push(fn)
	for _, a := range args {
		L.Push(lua.LString(a))
	}
	return L.PCall(len(args), lua.MultRet, nil)
}

func runREPL(L *lua.LState, sigs *signals, l *lab.Lab) error {
	interrupts := make(chan struct{}, 1)
	sigs.mu.Lock()
	sigs.interrupts = interrupts
	sigs.mu.Unlock()
	defer func() {
		sigs.mu.Lock()
		sigs.interrupts = nil
		sigs.mu.Unlock()
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs.mu.Lock()
	stop := sigs.cancel
	sigs.cancel = func() { stop(); cancel() }
	sigs.mu.Unlock()
	L.SetContext(ctx)
	defer L.RemoveContext()
	interactive := term.IsTerminal(int(os.Stdin.Fd()))
	banner := ""
	if interactive {
		banner = fmt.Sprintf("nslua %s, lab %q. help() lists the API; Ctrl-D leaves and tears down.", version, l.Name)
	}
	err := repl.Run(L, repl.Config{
		Interactive: interactive,
		Names:       func() []string { names, _ := lab.List(); return names },
		Interrupts:  interrupts,
		Banner:      banner,
	})
	if errors.Is(err, repl.ErrInterrupted) {
		// Ctrl-C with a non-terminal stdin ends the run, as for `sh < file`.
		sigs.mu.Lock()
		if sigs.got == nil {
			sigs.got = syscall.SIGINT
		}
		sigs.mu.Unlock()
		return nil
	}
	return err
}

// finish runs the teardown and turns the run's outcome into an exit status.
func finish(td *teardown, runErr error, sigs *signals) error {
	l := td.l
	code, msg := 0, ""
	if runErr != nil {
		code, msg = 1, luaErrorMessage(runErr, l)
	}
	if sig := sigs.received(); sig != nil {
		code, msg = exitCodeFor(sig), fmt.Sprintf("lab %s: %v, tearing down", l.Name, sig)
	}
	if msg != "" {
		fmt.Fprintf(os.Stderr, "nslua: %s\n", msg)
	}
	if !td.run() && code == 0 {
		code = 1
	}
	td.L.Close()
	if code == 0 {
		return nil
	}
	return &exitError{code: code}
}

// teardown ends a run: the ns.defer functions, then the lab's own
// teardown. It runs once, from finish or from os.exit.
type teardown struct {
	L       *lua.LState
	rt      *luabind.Runtime
	l       *lab.Lab
	started bool
}

// run reports whether the lab's teardown went without errors; each error
// is already on stderr. For a kept lab it says how to remove it.
func (td *teardown) run() bool {
	td.started = true
	td.L.RemoveContext() // a signal that ended the run must not cut the defers short
	for _, err := range td.rt.RunDefers(td.L) {
		fmt.Fprintf(os.Stderr, "nslua: teardown: %v\n", luaErrorMessage(err, td.l))
	}
	kept := td.l.Kept()
	errs := td.l.Close()
	if kept {
		fmt.Fprintf(os.Stderr, "nslua: lab %s kept; `nslua down %s` removes it\n", td.l.Name, td.l.Name)
	}
	return len(errs) == 0
}

// replaceOsExit makes os.exit tear the lab down before the process ends:
// gopher-lua's own calls os.Exit at once and would leave everything the
// script built in place. Like Lua's, it does not unwind (pcall cannot
// catch it); os.exit(true/false) means 0/1, as in Lua 5.2.
func replaceOsExit(L *lua.LState, td *teardown) {
	osMod, ok := L.GetGlobal("os").(*lua.LTable)
	if !ok {
		return
	}
	osMod.RawSetString("exit", L.NewFunction(func(L *lua.LState) int {
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
		if td.started { // from an ns.defer function: the teardown is under way
			L.RaiseError("os.exit: called during teardown; the teardown goes on")
		}
		if !td.run() && code == 0 {
			code = 1
		}
		os.Exit(code)
		return 0
	}))
}

// luaErrorMessage keeps the message and position of a Lua error, without
// gopher-lua's stack traceback; a Go panic inside a binding is a bug,
// reported with its Go stack in a file that survives the teardown.
func luaErrorMessage(err error, l *lab.Lab) string {
	var apiErr *lua.ApiError
	if !errors.As(err, &apiErr) {
		return err.Error()
	}
	var syntax *parse.Error
	if errors.As(apiErr.Cause, &syntax) {
		return syntaxMessage(syntax)
	}
	msg := apiErr.Object.String()
	if apiErr.Type == lua.ApiErrorPanic {
		path := filepath.Join(os.TempDir(), fmt.Sprintf("nslua-panic-%s-%d.log", l.Name, os.Getpid()))
		os.WriteFile(path, []byte(msg+"\n"+apiErr.StackTrace+"\n"), 0o600)
		first := strings.SplitN(msg, "\n", 2)[0]
		return fmt.Sprintf("internal error (a bug in nslua, please report it with %s): %s", path, first)
	}
	return msg
}

// syntaxMessage gives a syntax error the file:line form of runtime errors
// (gopher-lua says "FILE line:N(column:C) near 'x':   syntax error\n").
func syntaxMessage(e *parse.Error) string {
	if e.Pos.Line == parse.EOF {
		return fmt.Sprintf("%s: %s at the end of the file", e.Pos.Source, e.Message)
	}
	return fmt.Sprintf("%s:%d: %s near '%s' (column %d)", e.Pos.Source, e.Pos.Line, e.Message, e.Token, e.Pos.Column)
}

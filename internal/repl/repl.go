// Package repl is nslua's read-eval-print loop, modelled on lua's own: an
// expression prints its values, a chunk left incomplete keeps reading
// lines, and Ctrl-C cancels the running statement rather than the session
// (which may be holding a live lab).
//
// Line editing is github.com/peterh/liner: pure Go (it needs no cgo of
// its own), small, maintained, with history, Tab completion and Ctrl-C
// handling built in. chzyer/readline, the other usual choice, is
// unmaintained, and its maintained fork cannot be fetched for this build.
package repl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/peterh/liner"
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// The prompts shown on a terminal: one for a new statement, one while the
// statement typed so far is incomplete.
const (
	Prompt         = "nslua> "
	ContinuePrompt = "  ...> "
)

// ErrInterrupted is what Run returns when an interrupt arrives while it
// reads from something that is not a terminal: a script fed on stdin
// stops as a whole on Ctrl-C, as `sh < script` does.
var ErrInterrupted = errors.New("interrupted")

// Config says where the REPL reads and writes and how it is driven.
type Config struct {
	// In, Out and Err are normally os.Stdin, os.Stdout and os.Stderr; nil
	// means those. Values print on Out, errors on Err. An interactive
	// session edits lines on the process's terminal (os.Stdin, os.Stdout)
	// whatever In is: that is where liner works.
	In       io.Reader
	Out, Err io.Writer
	// Interactive (stdin is a terminal) turns on prompts, line editing,
	// history and completion. Otherwise lines are run as they come, an
	// error is printed and the next line runs, and EOF ends Run with nil.
	Interactive bool
	// HistoryFile is where history is kept across runs; "" means
	// DefaultHistoryFile().
	HistoryFile string
	// Names lists namespace names, offered by Tab inside ns.open(" and
	// ns.inspect(". It runs on the REPL's goroutine.
	Names func() []string
	// Interrupts receives one value per SIGINT while Run runs (the caller
	// owns signal.Notify). A value cancels the running statement; at an
	// idle non-terminal input it ends Run with ErrInterrupted.
	Interrupts <-chan struct{}
	// Banner, when not empty, is printed once when an interactive session
	// starts.
	Banner string
}

// Run reads, runs and prints until end of input or Ctrl-D, then returns
// nil. It returns ErrInterrupted when a non-interactive session is
// interrupted, and L's own context's error if the caller cancels that
// context (Run checks it between statements). Each statement runs under a
// fresh context derived from L's, which Run puts back afterwards; L must
// not be used by anything else while Run runs.
func Run(L *lua.LState, cfg Config) error {
	s := &session{L: L, cfg: cfg, in: cfg.In, out: cfg.Out, errw: cfg.Err}
	if s.in == nil {
		s.in = os.Stdin
	}
	if s.out == nil {
		s.out = os.Stdout
	}
	if s.errw == nil {
		s.errw = os.Stderr
	}
	if cfg.Interactive {
		return s.interactive()
	}
	return s.readLoop(s.in, nil, false)
}

type session struct {
	L       *lua.LState
	cfg     Config
	in      io.Reader
	out     io.Writer
	errw    io.Writer
	pending []string // lines of an incomplete chunk
}

// outcome is how a statement ended.
type outcome int

const (
	finished    outcome = iota // ran, or failed and its error was printed
	interrupted                // an interrupt cancelled it
	stopped                    // L's own context ended: Run must return
)

func (s *session) prompt() string {
	if len(s.pending) > 0 {
		return ContinuePrompt
	}
	return Prompt
}

// interactive runs the REPL on the terminal with liner.
func (s *session) interactive() error {
	if !isTerminal(os.Stdout) {
		// nslua | tee log: liner would print its prompts into the log. Read
		// lines as the terminal's own line mode gives them, prompting on
		// stderr, with statements that Ctrl-C cancels.
		return s.readLoop(os.Stdin, s.errw, true)
	}
	modes, ln := newLineEditor()
	defer ln.Close()
	p := newPrompter(ln)
	defer p.close()
	ln.SetCtrlCAborts(true)
	ln.SetTabCompletionStyle(liner.TabPrints)
	ln.SetWordCompleter(p.complete)
	hist := openHistory(ln, s.cfg.HistoryFile, s.errw)
	defer hist.close()
	var parentDone <-chan struct{}
	if ctx := s.L.Context(); ctx != nil {
		parentDone = ctx.Done()
	}

	if s.cfg.Banner != "" {
		fmt.Fprintln(s.out, s.cfg.Banner)
	}
	for {
		modes.forPrompt()
		r, ok := p.prompt(s.prompt(), s.completeWord, parentDone)
		if !ok {
			// The caller's context ended while the prompt waited for a key
			// (SIGTERM): ln.Close, deferred, gives the terminal back.
			fmt.Fprintln(s.out)
			return s.parentErr()
		}
		modes.forStatement()
		switch {
		case errors.Is(r.err, liner.ErrPromptAborted):
			s.pending = nil // Ctrl-C: drop the line and any unfinished chunk
			continue
		case errors.Is(r.err, io.EOF):
			fmt.Fprintln(s.out) // leave the shell's prompt on a line of its own
			s.reportPending()
			return nil
		case r.err != nil:
			return fmt.Errorf("read line from terminal: %w", r.err)
		}
		chunk, fn := s.take(r.line)
		if chunk != nil {
			hist.add(historyEntry(chunk))
		}
		if fn == nil {
			continue
		}
		switch s.run(fn) {
		case interrupted:
			// After the "^C" that the terminal echoed.
			fmt.Fprintln(s.errw, "\ninterrupted")
		case stopped:
			return s.parentErr()
		}
	}
}

// terminalModes switches the terminal between liner's raw mode, for the
// prompt, and its own mode, for statements: echo, line editing for a
// program that reads the terminal, and ^C as a signal that cancels.
type terminalModes struct {
	cooked, editing liner.ModeApplier // nil when unknown
}

// newLineEditor starts liner and notes the two modes.
func newLineEditor() (terminalModes, *liner.State) {
	var m terminalModes
	if mode, err := liner.TerminalMode(); err == nil {
		m.cooked = mode
	}
	ln := liner.NewLiner()
	if mode, err := liner.TerminalMode(); err == nil {
		m.editing = mode
	}
	return m, ln
}

func (m terminalModes) forPrompt() {
	if m.editing != nil {
		m.editing.ApplyMode()
	}
}

func (m terminalModes) forStatement() {
	if m.cooked != nil {
		m.cooked.ApplyMode()
	}
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// prompter runs liner's Prompt on a goroutine of its own, so that Run can
// give up waiting for a key when the caller's context ends; liner cannot
// be told to stop. Liner calls the completer on that goroutine, and the
// completer needs L, so each completion is sent back to Run's goroutine,
// which answers it while it waits for the line.
type prompter struct {
	ln       *liner.State
	requests chan completeRequest
	quit     chan struct{} // closed when Run returns
}

type completeRequest struct {
	line  string
	pos   int
	reply chan completeReply
}

type completeReply struct {
	head, tail string
	candidates []string
}

type promptResult struct {
	line string
	err  error
}

func newPrompter(ln *liner.State) *prompter {
	return &prompter{ln: ln, requests: make(chan completeRequest), quit: make(chan struct{})}
}

func (p *prompter) close() { close(p.quit) }

// prompt reads one line; ok is false if done closed first.
func (p *prompter) prompt(text string, complete func(string, int) (string, []string, string), done <-chan struct{}) (r promptResult, ok bool) {
	results := make(chan promptResult, 1)
	go func() {
		line, err := p.ln.Prompt(text)
		results <- promptResult{line, err}
	}()
	for {
		select {
		case r := <-results:
			return r, true
		case req := <-p.requests:
			head, candidates, tail := complete(req.line, req.pos)
			req.reply <- completeReply{head: head, tail: tail, candidates: candidates}
		case <-done:
			return promptResult{}, false
		}
	}
}

// complete is liner's completer: it runs on the prompt's goroutine and
// asks Run's goroutine for the answer.
func (p *prompter) complete(line string, pos int) (string, []string, string) {
	req := completeRequest{line: line, pos: pos, reply: make(chan completeReply, 1)}
	select {
	case p.requests <- req:
		r := <-req.reply
		return r.head, r.candidates, r.tail
	case <-p.quit:
		return line, nil, ""
	}
}

// readLoop runs lines read from in. prompts, when not nil, gets a prompt
// before each line. keepGoing makes an interrupt cancel the statement (or
// the unfinished input) and carry on; otherwise it ends the loop.
func (s *session) readLoop(in io.Reader, prompts io.Writer, keepGoing bool) error {
	quit := make(chan struct{})
	defer close(quit)
	lines := readLines(in, quit)
	interrupts := s.cfg.Interrupts
	var parentDone <-chan struct{}
	if ctx := s.L.Context(); ctx != nil {
		parentDone = ctx.Done()
	}
	first := true
	for {
		if prompts != nil {
			fmt.Fprint(prompts, s.prompt())
		}
		var r readResult
	wait:
		for {
			select {
			case r = <-lines:
				break wait
			case _, ok := <-interrupts:
				if !ok {
					interrupts = nil
					continue
				}
				if !keepGoing {
					return ErrInterrupted
				}
				s.pending = nil
				if prompts != nil {
					fmt.Fprint(prompts, "\n"+s.prompt())
				}
			case <-parentDone:
				return s.parentErr()
			}
		}
		if r.err != nil {
			s.reportPending()
			if r.err == io.EOF {
				return nil
			}
			return fmt.Errorf("read input: %w", r.err)
		}
		if first && strings.HasPrefix(r.line, "#") {
			first = false
			continue // a "#!" line, as lua skips it
		}
		first = false
		_, fn := s.take(r.line)
		if fn == nil {
			continue
		}
		switch s.run(fn) {
		case interrupted:
			if !keepGoing {
				return ErrInterrupted
			}
			fmt.Fprintln(s.errw, "interrupted")
		case stopped:
			return s.parentErr()
		}
	}
}

type readResult struct {
	line string
	err  error // io.EOF at the end
}

// readLines reads in on its own goroutine, so that an interrupt is seen
// while the REPL waits for input. The goroutine only touches in, never L.
func readLines(in io.Reader, quit <-chan struct{}) <-chan readResult {
	out := make(chan readResult)
	go func() {
		br := bufio.NewReader(in)
		for {
			line, err := br.ReadString('\n')
			var r readResult
			switch {
			case line != "":
				r.line = strings.TrimRight(line, "\r\n")
			case err != nil:
				r.err = err
			}
			select {
			case out <- r:
			case <-quit:
				return
			}
			if line == "" && err != nil {
				return
			}
		}
	}()
	return out
}

// take adds a line to the pending input. Once that makes a whole chunk it
// returns the chunk's lines and its function, or a nil function after a
// syntax error, which it has printed. A blank line outside a chunk is
// no chunk at all.
func (s *session) take(line string) (chunk []string, fn *lua.LFunction) {
	if len(s.pending) == 0 && strings.TrimSpace(line) == "" {
		return nil, nil
	}
	s.pending = append(s.pending, line)
	fn, incomplete, err := compile(s.L, strings.Join(s.pending, "\n"))
	if incomplete {
		return nil, nil
	}
	chunk, s.pending = s.pending, nil
	if err != nil {
		fmt.Fprintln(s.errw, ErrorMessage(err))
		return chunk, nil
	}
	return chunk, fn
}

// reportPending prints why an unfinished chunk cannot run, at end of input.
func (s *session) reportPending() {
	if len(s.pending) == 0 {
		return
	}
	_, _, err := compile(s.L, strings.Join(s.pending, "\n"))
	s.pending = nil
	if err != nil {
		fmt.Fprintln(s.errw, ErrorMessage(err))
	}
}

// run calls fn and prints its values, under a context that an interrupt
// cancels; printing is inside it too, since __tostring is Lua code.
func (s *session) run(fn *lua.LFunction) outcome {
	parent := s.L.Context()
	base := parent
	if base == nil {
		base = context.Background()
	}
	if base.Err() != nil {
		return stopped
	}
	ctx, cancel := context.WithCancel(base)
	defer cancel()
	stopWatching := s.watchInterrupts(cancel)
	defer stopWatching()
	s.L.SetContext(ctx)
	defer func() {
		if parent == nil {
			s.L.RemoveContext()
		} else {
			s.L.SetContext(parent)
		}
	}()

	text, err := s.call(fn)
	switch {
	case base.Err() != nil:
		return stopped
	case ctx.Err() != nil:
		return interrupted
	case err != nil:
		fmt.Fprintln(s.errw, ErrorMessage(err))
	case text != "":
		fmt.Fprintln(s.out, text)
	}
	return finished
}

// call runs fn and formats what it returns, tab-separated as lua prints.
func (s *session) call(fn *lua.LFunction) (string, error) {
	L := s.L
	top := L.GetTop()
	defer L.SetTop(top)
	L.Push(fn)
	if err := L.PCall(0, lua.MultRet, nil); err != nil {
		return "", err
	}
	n := L.GetTop() - top
	parts := make([]string, n)
	for i := range parts {
		parts[i] = FormatL(L, L.Get(top+1+i))
	}
	return strings.Join(parts, "\t"), nil
}

// watchInterrupts cancels the statement when an interrupt arrives. An
// interrupt that came while nothing ran (a stray kill -INT) is dropped
// first, so that it does not cancel the next statement at once.
func (s *session) watchInterrupts(cancel context.CancelFunc) (stop func()) {
	ch := s.cfg.Interrupts
drain:
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				ch = nil
				break drain
			}
		default:
			break drain
		}
	}
	done := make(chan struct{})
	go func() {
		select {
		case _, ok := <-ch:
			if ok {
				cancel()
			}
		case <-done:
		}
	}()
	return func() { close(done) }
}

// parentErr is the error of the context the caller put on L, if it ended.
func (s *session) parentErr() error {
	if ctx := s.L.Context(); ctx != nil {
		return ctx.Err()
	}
	return nil
}

// completeWord adapts Complete to liner, which gives the line and the
// cursor position in runes.
func (s *session) completeWord(line string, pos int) (head string, candidates []string, tail string) {
	r := []rune(line)
	pos = min(max(pos, 0), len(r))
	before, tail := string(r[:pos]), string(r[pos:])
	defer func() {
		// A bug in completion must not end a session that holds a live lab.
		if recover() != nil {
			head, candidates = before, nil
		}
	}()
	head, candidates = Complete(s.L, s.cfg.Names, before)
	if tail != "" && (tail[0] == '"' || tail[0] == '\'') {
		// The closing quote is already there.
		for i, c := range candidates {
			candidates[i] = strings.TrimSuffix(c, tail[:1])
		}
	}
	return head, candidates, tail
}

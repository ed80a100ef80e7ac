package repl

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func TestExpressionsPrintTheirValues(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1 + 1\n", "2\n"},
		{`"a" .. "b"` + "\n", "ab\n"},
		{"x = 3\nx * 2\n", "6\n"},                   // a statement prints nothing
		{"=10 / 4\n", "2.5\n"},                      // Lua 5.1's "=" still works
		{"return 1, nil, 'x'\n", "1\tnil\tx\n"},     // several values, tab-separated
		{"nil\n", "nil\n"},                          // an expression that is nil
		{"string.rep('ab', 2)\n", "abab\n"},         // a call's values
		{"print\n", "function: "},                   // a function value
		{"ns.add('lab1')\n", "Netns(lab1)\n"},       // userdata by __tostring
		{"ns.list()\n", "{ \"lab1\", \"lab2\" }\n"}, // tables pretty-printed
		{"\n\n  \n", ""},                            // blank lines do nothing
		{"#!/usr/bin/env nslua\n7\n", "7\n"},        // a first "#" line is skipped
		{"1 + 1", "2\n"},                            // no newline at the end
		{"1 + 1\r\n", "2\n"},                        // CRLF input
	} {
		out, errOut, err := runPiped(t, tc.in)
		if err != nil || errOut != "" {
			t.Errorf("%q: err %v, stderr %q", tc.in, err, errOut)
		}
		if !strings.HasPrefix(out, tc.want) || (!strings.HasSuffix(tc.want, " ") && out != tc.want) {
			t.Errorf("%q printed %q, want %q", tc.in, out, tc.want)
		}
	}
}

func TestMultiLineFunctionDefinition(t *testing.T) {
	in := "function sq(x)\n" +
		"  -- a comment line\n" +
		"  local y = x * x\n" +
		"  return y\n" +
		"end\n" +
		"sq(12)\n" +
		"{1,\n 2,\n 3}\n" + // an expression that starts out wrong as a statement
		"s = [[\nfirst\nsecond]]\n" +
		"s\n"
	out, errOut, err := runPiped(t, in)
	if err != nil || errOut != "" {
		t.Fatalf("err %v, stderr %q", err, errOut)
	}
	if want := "144\n{ 1, 2, 3 }\nfirst\nsecond\n"; out != want {
		t.Errorf("printed %q, want %q", out, want)
	}
}

func TestFailingLineGoesOn(t *testing.T) {
	in := "error('boom')\n" +
		"nosuch.field\n" +
		"x = = 1\n" +
		"1 +* 2\n" +
		"print('open\n" +
		"error({code = 7})\n" +
		"'still here'\n"
	out, errOut, err := runPiped(t, in)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out != "still here\n" {
		t.Errorf("stdout %q, want only the last line's value", out)
	}
	want := []string{
		"stdin:1: boom\n",
		"stdin:1: attempt to index",
		"stdin:1: syntax error near '='\n",
		"stdin:1: syntax error near '*'\n",
		"stdin:1: unterminated string near 'open'\n",
		"stdin:1: error object is a table: { code = 7 }\n",
	}
	lines := strings.SplitAfter(errOut, "\n")
	if len(lines) != len(want)+1 { // SplitAfter leaves a final ""
		t.Fatalf("stderr has %d lines, want %d: %q", len(lines)-1, len(want), errOut)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("stderr line %d = %q, want %q", i+1, lines[i], w)
		}
	}
	if strings.Contains(errOut, "stack traceback") {
		t.Errorf("errors carry a traceback: %q", errOut)
	}
}

func TestIncompleteChunkAtEOF(t *testing.T) {
	out, errOut, err := runPiped(t, "1\nfunction f()\n  return 1\n")
	if err != nil {
		t.Fatalf("Run returned %v, want nil at EOF", err)
	}
	if out != "1\n" || !strings.Contains(errOut, "at end of input") {
		t.Errorf("stdout %q stderr %q, want 1 and an end-of-input error", out, errOut)
	}
}

func TestInterruptCancelsLoop(t *testing.T) {
	L := newTestLua()
	defer L.Close()
	interrupts := make(chan struct{}, 1)
	out, errOut := newSyncBuffer(), newSyncBuffer()
	in, done := runAsync(t, L, Config{Out: out, Err: errOut, Interrupts: interrupts})
	if _, err := in.Write([]byte("while true do end\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the loop start
	interrupts <- struct{}{}
	start := time.Now()
	select {
	case err := <-done:
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("Run returned %v, want ErrInterrupted", err)
		}
	case <-time.After(time.Second):
		t.Fatal("the loop still runs a second after the interrupt")
	}
	t.Logf("stopped %v after the interrupt", time.Since(start))
	if L.Context() != nil {
		t.Error("the statement's context is still set on L")
	}
	if err := L.DoString("return 1"); err != nil {
		t.Errorf("L unusable after the interrupt: %v", err)
	}
}

// TestInterruptThenGoOn runs the loop that a terminal session uses when it
// cannot edit lines: an interrupt cancels the statement, then the next
// line runs.
func TestInterruptThenGoOn(t *testing.T) {
	L := newTestLua()
	defer L.Close()
	interrupts := make(chan struct{}, 1)
	out, errOut, prompts := newSyncBuffer(), newSyncBuffer(), newSyncBuffer()
	s := &session{L: L, cfg: Config{Interrupts: interrupts}, out: out, errw: errOut}
	r, w := pipe(t)
	done := make(chan error, 1)
	go func() { done <- s.readLoop(r, prompts, true) }()

	w.Write([]byte("while true do end\n"))
	time.Sleep(200 * time.Millisecond)
	interrupts <- struct{}{}
	waitFor(t, errOut, "interrupted\n", time.Second)
	w.Write([]byte("6 * 7\n"))
	waitFor(t, out, "42\n", time.Second)

	// At an idle prompt an interrupt drops the unfinished chunk.
	w.Write([]byte("function f()\n"))
	waitFor(t, prompts, ContinuePrompt, time.Second)
	interrupts <- struct{}{}
	waitFor(t, prompts, "\n"+Prompt, time.Second)
	w.Write([]byte("'fresh'\n"))
	waitFor(t, out, "fresh\n", time.Second)

	w.Close()
	if err := <-done; err != nil {
		t.Fatalf("readLoop: %v", err)
	}
	if strings.Contains(errOut.String(), "end of input") {
		t.Errorf("the dropped chunk was still reported: %q", errOut.String())
	}
}

func TestStrayInterruptDoesNotCancelNextStatement(t *testing.T) {
	L := newTestLua()
	defer L.Close()
	interrupts := make(chan struct{}, 1)
	interrupts <- struct{}{} // arrived while nothing ran
	out, errOut := newSyncBuffer(), newSyncBuffer()
	s := &session{L: L, cfg: Config{Interrupts: interrupts}, out: out, errw: errOut}
	fn, _, err := compile(L, "for i = 1, 200000 do end return 'done'")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.run(fn); got != finished {
		t.Fatalf("run = %v, want finished", got)
	}
	if out.String() != "done\n" {
		t.Errorf("printed %q", out.String())
	}
}

func TestCallerContextIsKept(t *testing.T) {
	L := newTestLua()
	defer L.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	L.SetContext(ctx)
	out, errOut, err := func() (string, string, error) {
		o, e := newSyncBuffer(), newSyncBuffer()
		err := Run(L, Config{In: strings.NewReader("1 + 2\n"), Out: o, Err: e})
		return o.String(), e.String(), err
	}()
	if err != nil || out != "3\n" || errOut != "" {
		t.Fatalf("Run: %v, out %q, err %q", err, out, errOut)
	}
	if L.Context() != ctx {
		t.Fatal("Run did not put the caller's context back on L")
	}

	// Cancelling the caller's context ends an idle Run.
	_, done := runAsync(t, L, Config{Out: newSyncBuffer(), Err: newSyncBuffer()})
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Run ignored the cancelled caller context")
	}
}

func TestCompileIncomplete(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	for _, tc := range []struct {
		src        string
		incomplete bool
	}{
		{"function f()", true},
		{"x = ", true},
		{"{1,", true},
		{"if x then", true},
		{"s = [[abc", true},
		{"--[[ comment", true},
		{"print('abc", false}, // a quote left open is an error, as in lua
		{"end", false},
		{"x = = 1", false},
		{"1 + 1", false},
	} {
		_, incomplete, err := compile(L, tc.src)
		if incomplete != tc.incomplete {
			t.Errorf("%q: incomplete = %v (err %v), want %v", tc.src, incomplete, err, tc.incomplete)
		}
	}
}

package repl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// The pty tests run Run in a child process (this test binary again) whose
// terminal is a pty, since liner edits the process's own stdin and stdout.
const childEnv = "NSLUA_REPL_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childREPL())
	}
	os.Exit(m.Run())
}

// childREPL is what nslua's runner does around Run: forward SIGINT, and
// cancel L's context on SIGTERM. It exits 3 when Run returns because of
// that.
func childREPL() int {
	L := newTestLua()
	defer L.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	L.SetContext(ctx)
	sigterm := make(chan os.Signal, 1)
	signal.Notify(sigterm, syscall.SIGTERM)
	go func() {
		<-sigterm
		cancel()
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	interrupts := make(chan struct{}, 1)
	go func() {
		for range sig {
			select {
			case interrupts <- struct{}{}:
			default:
			}
		}
	}()
	err := Run(L, Config{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		Interactive: true,
		HistoryFile: os.Getenv("NSLUA_REPL_TEST_HISTORY"),
		Names:       func() []string { return []string{"lab1", "lab2"} },
		Interrupts:  interrupts,
		Banner:      "test REPL",
	})
	if errors.Is(err, context.Canceled) {
		return 3
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "Run:", err)
		return 1
	}
	return 0
}

// term is a child REPL on a pty, and what it has written so far.
type term struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	seen int // output before this offset has been matched already

	exited  chan struct{} // closed when the child has been waited for
	waitErr error
}

func startTerm(t *testing.T, history string) *term {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1", "TERM=xterm", "NSLUA_REPL_TEST_HISTORY="+history)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatalf("start REPL on a pty: %v", err)
	}
	tm := &term{t: t, cmd: cmd, pty: f, exited: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		tm.waitErr = cmd.Wait()
		close(tm.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-tm.exited
		f.Close()
	})
	return tm
}

func (tm *term) send(keys string) {
	tm.t.Helper()
	if _, err := tm.pty.Write([]byte(keys)); err != nil {
		tm.t.Fatalf("type %q: %v", keys, err)
	}
}

// expect waits until the output after what was matched before holds want.
func (tm *term) expect(want string, within time.Duration) {
	tm.t.Helper()
	deadline := time.Now().Add(within)
	for {
		tm.mu.Lock()
		rest := tm.out.String()[tm.seen:]
		if i := strings.Index(rest, want); i >= 0 {
			tm.seen += i + len(want)
			tm.mu.Unlock()
			return
		}
		tm.mu.Unlock()
		if time.Now().After(deadline) {
			tm.t.Fatalf("no %q within %v; output since last match: %q", want, within, rest)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (tm *term) exit(within time.Duration) {
	tm.t.Helper()
	select {
	case <-tm.exited:
		if tm.waitErr != nil {
			tm.mu.Lock()
			defer tm.mu.Unlock()
			tm.t.Fatalf("REPL exited with %v; output %q", tm.waitErr, tm.out.String())
		}
	case <-time.After(within):
		tm.t.Fatalf("REPL still running %v after Ctrl-D", within)
	}
}

func TestTerminalSession(t *testing.T) {
	history := filepath.Join(t.TempDir(), "history")
	tm := startTerm(t, history)
	tm.expect("test REPL", 5*time.Second)
	tm.expect(Prompt, 5*time.Second)

	// A function typed over three lines, then called.
	tm.send("function sq(x)\r")
	tm.expect(ContinuePrompt, time.Second)
	tm.send("  return x * x\r")
	tm.expect(ContinuePrompt, time.Second)
	tm.send("end\r")
	tm.expect(Prompt, time.Second)
	tm.send("sq(12)\r")
	tm.expect("144\r\n", time.Second)
	tm.expect(Prompt, time.Second)

	// Tab completes ns.a to ns.add; the call then prints by __tostring.
	tm.send("ns.a\t")
	tm.expect("ns.add", time.Second)
	tm.send("(\"lab1\")\r")
	tm.expect("Netns(lab1)\r\n", time.Second)
	tm.expect(Prompt, time.Second)

	// Ctrl-C cancels a running loop and the prompt comes back.
	tm.send("while true do end\r")
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	tm.send("\x03")
	tm.expect("interrupted", time.Second)
	tm.expect(Prompt, time.Second)
	t.Logf("back at the prompt %v after Ctrl-C", time.Since(start))
	tm.send("6 * 7\r")
	tm.expect("42\r\n", time.Second)
	tm.expect(Prompt, time.Second)

	// Ctrl-C at the prompt drops the line and an unfinished chunk.
	tm.send("if true then\r")
	tm.expect(ContinuePrompt, time.Second)
	tm.send("junk\x03")
	tm.expect("^C", time.Second)
	tm.expect(Prompt, time.Second)
	tm.send("'clean'\r")
	tm.expect("clean\r\n", time.Second)
	tm.expect(Prompt, time.Second)

	// Errors print and the session goes on.
	tm.send("error('boom')\r")
	tm.expect("stdin:1: boom", time.Second)
	tm.expect(Prompt, time.Second)

	tm.send("\x04")
	tm.exit(5 * time.Second)

	data, err := os.ReadFile(history)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Split(string(data), "\n"), "function sq(x) return x * x end") {
		t.Errorf("the function is not one history entry: %q", data)
	}
	if strings.Contains(string(data), "junk") || strings.Contains(string(data), "if true") {
		t.Errorf("a cancelled line went into the history: %q", data)
	}

	// A new session finds the function in its history: "func" and Up
	// recall the whole definition, which runs as one line.
	tm2 := startTerm(t, history)
	tm2.expect(Prompt, 5*time.Second)
	tm2.send("func\x1b[A")
	tm2.expect("function sq(x) return x * x end", time.Second)
	tm2.send("\r")
	tm2.expect(Prompt, time.Second)
	tm2.send("sq(5)\r")
	tm2.expect("25\r\n", time.Second)
	tm2.send("\x04")
	tm2.exit(5 * time.Second)
}

// A SIGTERM while the prompt waits for a key ends Run (the runner then
// tears the lab down), and the terminal gets its own mode back.
func TestTerminalCallerContextEndsPrompt(t *testing.T) {
	tm := startTerm(t, filepath.Join(t.TempDir(), "history"))
	tm.expect(Prompt, 5*time.Second)
	tm.send("ns.a") // half a line, waiting
	tm.expect("ns.a", time.Second)
	raw, err := unix.IoctlGetTermios(int(tm.pty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Lflag&(unix.ECHO|unix.ICANON) != 0 {
		t.Fatalf("terminal not in liner's mode at the prompt: lflag %#x", raw.Lflag)
	}
	if err := tm.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-tm.exited:
	case <-time.After(2 * time.Second):
		t.Fatal("REPL still waits at the prompt 2s after its context was cancelled")
	}
	var exit *exec.ExitError
	if !errors.As(tm.waitErr, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("child ended with %v, want Run to return context.Canceled (exit 3)", tm.waitErr)
	}
	mode, err := unix.IoctlGetTermios(int(tm.pty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if mode.Lflag&(unix.ECHO|unix.ICANON) != unix.ECHO|unix.ICANON {
		t.Errorf("terminal left without echo or line mode: lflag %#x", mode.Lflag)
	}
}

// With stdout redirected (nslua | tee log) liner cannot edit lines; the
// REPL still prompts, on stderr, and runs what is typed.
func TestTerminalInputRedirectedOutput(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1", "TERM=xterm", "NSLUA_REPL_TEST_HISTORY="+filepath.Join(t.TempDir(), "h"))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, outW, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	outW.Close()
	defer cmd.Process.Kill()

	// The terminal side shows the prompts; stdout gets the values.
	screen := newSyncBuffer()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	waitFor(t, screen, Prompt, 5*time.Second)
	ptmx.Write([]byte("function f()\n"))
	waitFor(t, screen, ContinuePrompt, 2*time.Second)
	ptmx.Write([]byte("return 'from f' end\nf()\n\x04"))
	out, err := io.ReadAll(outR)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("REPL: %v; screen %q", err, screen.String())
	}
	if !strings.Contains(string(out), "from f\n") || strings.Contains(string(out), Prompt) {
		t.Errorf("stdout %q: want the value and no prompt", out)
	}
}

package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/nslua/nslua/internal/repl"
)

// replTerm is `nslua` with no arguments on a pty, and what it printed.
type replTerm struct {
	t      *testing.T
	cmd    *exec.Cmd
	pty    *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	seen   int
	exited chan struct{}
	err    error
}

func startREPL(t *testing.T, args ...string) *replTerm {
	t.Helper()
	cmd := exec.Command(nslua, args...)
	// Its own history file, not the user's.
	cmd.Env = append(os.Environ(), "TERM=xterm", "XDG_STATE_HOME="+t.TempDir())
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatalf("start nslua on a pty: %v", err)
	}
	rt := &replTerm{t: t, cmd: cmd, pty: f, exited: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			rt.mu.Lock()
			rt.out.Write(buf[:n])
			rt.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		rt.err = cmd.Wait()
		close(rt.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-rt.exited:
		default:
			// A failed test: SIGTERM lets nslua tear down what it made.
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-rt.exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-rt.exited
			}
		}
		f.Close()
	})
	return rt
}

func (rt *replTerm) send(keys string) {
	rt.t.Helper()
	if _, err := rt.pty.Write([]byte(keys)); err != nil {
		rt.t.Fatalf("type %q: %v", keys, err)
	}
}

func (rt *replTerm) expect(want string, within time.Duration) {
	rt.t.Helper()
	deadline := time.Now().Add(within)
	for {
		rt.mu.Lock()
		rest := rt.out.String()[rt.seen:]
		if i := strings.Index(rest, want); i >= 0 {
			rt.seen += i + len(want)
			rt.mu.Unlock()
			return
		}
		rt.mu.Unlock()
		if time.Now().After(deadline) {
			rt.t.Fatalf("no %q within %v; output since last match: %q", want, within, rest)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// children lists the PIDs whose parent is pid.
func children(pid int) []string {
	var out []string
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, task := range tasks {
		data, _ := os.ReadFile(task)
		out = append(out, strings.Fields(string(data))...)
	}
	return out
}

func TestREPLTerminal(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	rt := startREPL(t)
	rt.expect(repl.Prompt, 10*time.Second)
	journal := fmt.Sprintf("/run/nslua/repl-%d", rt.cmd.Process.Pid)

	// A function over several lines, then a call of it.
	rt.send("function sq(x)\r")
	rt.expect(repl.ContinuePrompt, 2*time.Second)
	rt.send("  return x * x\r")
	rt.expect(repl.ContinuePrompt, 2*time.Second)
	rt.send("end\r")
	rt.expect(repl.Prompt, 2*time.Second)
	rt.send("sq(12)\r")
	rt.expect("144\r\n", 2*time.Second)
	rt.expect(repl.Prompt, 2*time.Second)

	// ns.ad<Tab> completes to ns.add (ns.a is also ns.after), and the namespace it makes is real.
	rt.send("ns.ad\t")
	rt.expect("ns.add", 2*time.Second)
	rt.send(fmt.Sprintf("(%q)\r", p))
	rt.expect("\r\nNetns("+p+", inode ", 5*time.Second) // printed by __tostring
	rt.expect(repl.Prompt, 5*time.Second)
	if _, err := os.Stat("/run/netns/" + p); err != nil {
		t.Fatalf("ns.add typed in the REPL made no namespace: %v", err)
	}

	// Ctrl-C stops a long exec and the prompt comes back at once.
	rt.send(`ns.host():exec("sleep 30")` + "\r")
	time.Sleep(500 * time.Millisecond)
	if len(children(rt.cmd.Process.Pid)) == 0 {
		t.Fatal("the exec started no process")
	}
	start := time.Now()
	rt.send("\x03")
	rt.expect("interrupted", time.Second)
	rt.expect(repl.Prompt, time.Second)
	if d := time.Since(start); d > time.Second {
		t.Errorf("prompt back %v after Ctrl-C", d)
	}
	time.Sleep(200 * time.Millisecond)
	if kids := children(rt.cmd.Process.Pid); len(kids) > 0 {
		t.Errorf("the interrupted exec left processes %v", kids)
	}
	rt.send("6 * 7\r")
	rt.expect("42\r\n", 2*time.Second)
	rt.expect(repl.Prompt, 2*time.Second)

	// Ctrl-D leaves and tears down what the session made.
	rt.send("\x04")
	select {
	case <-rt.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("nslua still runs 15s after Ctrl-D")
	}
	if rt.err != nil {
		t.Errorf("nslua exited with %v after Ctrl-D", rt.err)
	}
	if _, err := os.Stat("/run/netns/" + p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("/run/netns/%s is still there after Ctrl-D (%v)", p, err)
	}
	if _, err := os.Stat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there after Ctrl-D (%v)", journal, err)
	}
}

func TestREPLPipedStdin(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	cmd := exec.Command(nslua)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+t.TempDir())
	cmd.Stdin = strings.NewReader(strings.Join([]string{
		"1 + 1",
		"error('first failure')",
		"function twice(s)",
		"  return s .. s",
		"end",
		"twice('ab')",
		fmt.Sprintf("n = ns.add(%q)", p),
		"n.name",
		"nosuch.call()",
		"'last line ran'",
	}, "\n") + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("nslua < lines: %v; stderr %q", err, stderr.String())
	}
	if want := "2\nabab\n" + p + "\nlast line ran\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	if strings.Contains(stdout.String()+stderr.String(), repl.Prompt) {
		t.Errorf("prompts printed for piped input: %q %q", stdout.String(), stderr.String())
	}
	for _, want := range []string{"stdin:1: first failure", "stdin:1: attempt to index"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q lacks %q", stderr.String(), want)
		}
	}
	if _, err := os.Stat("/run/netns/" + p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("/run/netns/%s outlived the piped session (%v)", p, err)
	}
}

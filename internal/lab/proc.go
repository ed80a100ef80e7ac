package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/sys"
)

// Cmd describes a program to run in a namespace.
type Cmd struct {
	Argv    []string
	Env     map[string]string // added to nslua's environment
	Dir     string
	Stdin   string
	Timeout time.Duration // 0: none
}

// Result is what exec returns.
type Result struct {
	Code     int
	Signal   string // "SIGKILL" etc. when the process was killed by a signal
	Stdout   string
	Stderr   string
	TimedOut bool
}

// ShellArgv turns a command string into the argv that runs it by /bin/sh.
func ShellArgv(cmd string) []string { return []string{"/bin/sh", "-c", cmd} }

func (c *Cmd) check() error {
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		return errors.New("command is empty")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("timeout %v is negative", c.Timeout)
	}
	for _, a := range c.Argv {
		if strings.ContainsRune(a, 0) {
			return errors.New("command argument contains a NUL byte")
		}
	}
	for k, v := range c.Env {
		switch {
		case k == "":
			return errors.New("env: empty variable name")
		case strings.ContainsAny(k, "=\x00"):
			return fmt.Errorf("env: variable name %q contains '=' or a NUL byte", k)
		case strings.ContainsRune(v, 0):
			return fmt.Errorf("env: value of %s contains a NUL byte", k)
		}
	}
	if c.Dir != "" {
		// Checked here: the child's own chdir failure would look like a
		// missing program.
		if info, err := os.Stat(c.Dir); err != nil {
			return fmt.Errorf("dir %s: %w", c.Dir, errors.Unwrap(err))
		} else if !info.IsDir() {
			return fmt.Errorf("dir %s: not a directory", c.Dir)
		}
	}
	return nil
}

func (n *Netns) command(c *Cmd) *exec.Cmd {
	cmd := &exec.Cmd{Path: c.Argv[0], Args: c.Argv, Dir: c.Dir}
	if lp, err := exec.LookPath(c.Argv[0]); err == nil {
		cmd.Path = lp
	}
	env := append(os.Environ(), RunEnv+"="+n.lab.runID)
	for _, k := range sortedKeys(c.Env) {
		env = append(env, k+"="+c.Env[k])
	}
	cmd.Env = env
	// Its own process group: the whole tree can be signalled, and Ctrl-C
	// at the terminal reaches nslua, which then stops it in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

func (n *Netns) start(cmd *exec.Cmd) error {
	if err := n.lab.checkOpen(); err != nil {
		return err
	}
	n.mu.Lock()
	deleted, w := n.deleted, n.worker
	n.mu.Unlock()
	if deleted {
		return fmt.Errorf("namespace %q has been deleted", n.Name)
	}
	start := cmd.Start
	if w != nil {
		if err := n.ensureResolv(); err != nil {
			return err
		}
		if err := n.ensurePrivate(); err != nil {
			return err
		}
		start = func() error { return w.Start(cmd) }
	}
	return sys.StartChild(func() (int, error) {
		if err := start(); err != nil {
			return 0, err
		}
		return cmd.Process.Pid, nil
	})
}

// startJournaled starts cmd in the run's cgroup, recording the process in
// the journal. It returns the Cmd that runs (a copy of cmd, see
// startInCgroup).
func (n *Netns) startJournaled(cmd *exec.Cmd) (*exec.Cmd, *journal.Entry, error) {
	n.lab.mu.Lock()
	n.lab.started = true
	n.lab.mu.Unlock()
	e, err := n.lab.j.Add(journal.Entry{Kind: journal.KindProc, NsIno: n.Inode, NsPath: n.Path, Cmd: strings.Join(cmd.Args, " ")})
	if err != nil {
		return nil, nil, err
	}
	cmd, err = n.lab.startInCgroup(cmd, n.start)
	if err != nil {
		n.lab.j.Gone(e)
		return nil, nil, err
	}
	e.PID = cmd.Process.Pid
	e.Start = sys.StartTime(e.PID)
	n.lab.j.Done(e)
	return cmd, e, nil
}

// Exec runs c to completion inside the namespace. A program that cannot be
// started gives code 127 (not found) or 126, with the reason in Stderr, as a
// shell does. ctx cancels it: the whole process group is killed.
func (n *Netns) Exec(ctx context.Context, c *Cmd) (*Result, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	cmd := n.command(c)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if c.Stdin != "" {
		cmd.Stdin = strings.NewReader(c.Stdin)
	}
	cmd, e, err := n.startJournaled(cmd)
	if err != nil {
		return startFailure(c.Argv[0], err)
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); sys.ForgetChild(cmd.Process.Pid) }()
	var timedOut bool
	select {
	case <-done:
	case <-ctx.Done():
		unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		<-done
		timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
	}
	n.lab.j.Gone(e)
	res := resultOf(cmd.ProcessState)
	res.Stdout, res.Stderr, res.TimedOut = stdout.String(), stderr.String(), timedOut
	if ctx.Err() != nil && !timedOut {
		return res, ctx.Err()
	}
	return res, nil
}

// startFailure turns a failure to execute the program itself into a
// shell's status: 127 when it is not there, 126 when it cannot run. Any
// other failure (the namespace's pin gone, an /etc/netns entry that
// vanished) is an error that says what it is.
func startFailure(prog string, err error) (*Result, error) {
	var pathErr *os.PathError
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return &Result{Code: 127, Stderr: notInstalled(prog).Error() + "\n"}, nil
	case !errors.As(err, &pathErr) || pathErr.Op != "fork/exec":
		return nil, err
	case errors.Is(pathErr.Err, unix.ENOENT):
		return &Result{Code: 127, Stderr: notInstalled(prog).Error() + "\n"}, nil
	}
	return &Result{Code: 126, Stderr: fmt.Sprintf("%s: %v\n", prog, pathErr.Err)}, nil
}

func resultOf(ps *os.ProcessState) *Result {
	if ps == nil { // not waited for here: a bug, but no reason to panic
		return &Result{Code: -1, Signal: "unknown"}
	}
	res := &Result{Code: ps.ExitCode()}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.Signal = signalName(ws.Signal())
		res.Code = 128 + int(ws.Signal())
	}
	return res
}

func signalName(s syscall.Signal) string {
	if name := unix.SignalName(s); name != "" {
		return name
	}
	return strconv.Itoa(int(s))
}

// Proc is a long-running process started by Spawn.
type Proc struct {
	PID  int
	NS   *Netns
	Argv []string
	Log  string

	cmd   *exec.Cmd
	entry *journal.Entry
	done  chan struct{}
	mu    sync.Mutex
	res   *Result
}

func (p *Proc) String() string {
	state := "running"
	if !p.Alive() {
		state = "exited"
	}
	return fmt.Sprintf("Proc(%d %s in %s, %s)", p.PID, strings.Join(p.Argv, " "), p.NS.Name, state)
}

// SpawnOptions are spawn's options.
type SpawnOptions struct {
	Log string // log file; default in the lab's directory
}

// Spawn starts a daemon inside the namespace with stdout and stderr in a log
// file. It is stopped at teardown.
func (n *Netns) Spawn(c *Cmd, opts SpawnOptions) (*Proc, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if _, err := exec.LookPath(c.Argv[0]); err != nil {
		return nil, notInstalled(c.Argv[0])
	}
	logPath := opts.Log
	if logPath == "" {
		logPath = n.lab.logPath(n.Name, c.Argv[0])
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	defer logFile.Close()
	cmd := n.command(c)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if c.Stdin != "" {
		cmd.Stdin = strings.NewReader(c.Stdin)
	}
	cmd, e, err := n.startJournaled(cmd)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Argv[0], err)
	}
	p := &Proc{PID: cmd.Process.Pid, NS: n, Argv: c.Argv, Log: logPath, cmd: cmd, entry: e, done: make(chan struct{})}
	go p.reap()
	return p, nil
}

func (p *Proc) reap() {
	p.cmd.Wait()
	sys.ForgetChild(p.cmd.Process.Pid)
	p.mu.Lock()
	p.res = resultOf(p.cmd.ProcessState)
	p.mu.Unlock()
	p.NS.lab.j.Gone(p.entry)
	close(p.done)
}

// Alive reports whether the process is still running.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit, up to timeout (0: no limit) or until
// ctx ends. It returns nil, nil when time ran out first.
func (p *Proc) Wait(ctx context.Context, timeout time.Duration) (*Result, error) {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-p.done:
	case <-expired:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	res := *p.res
	res.Stdout = p.Output()
	return &res, nil
}

// Kill sends sig to the process group; for SIGTERM it then waits up to 3 s
// and sends SIGKILL if the process is still there.
func (p *Proc) Kill(sig unix.Signal) error {
	if !p.Alive() {
		return nil
	}
	if err := unix.Kill(-p.PID, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill %d: %w", p.PID, err)
	}
	if sig != unix.SIGTERM {
		return nil
	}
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		unix.Kill(-p.PID, unix.SIGKILL)
		<-p.done
	}
	return nil
}

// Output returns the log's contents.
func (p *Proc) Output() string {
	data, _ := os.ReadFile(p.Log)
	return string(data)
}

// LogTail returns the last lines of the log, for error messages.
func (p *Proc) LogTail(lines int) string {
	out := strings.TrimRight(p.Output(), "\n")
	parts := strings.Split(out, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// WaitReady polls the log until match accepts a line, the process exits,
// time runs out or ctx ends.
func (p *Proc) WaitReady(ctx context.Context, match func(line string) bool, timeout time.Duration) error {
	return p.WaitUntil(ctx, p.LogLine(match), timeout, "no log line matched")
}

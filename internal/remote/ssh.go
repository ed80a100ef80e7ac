package remote

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
)

// Target is how to reach one host with the system's ssh client.
type Target struct {
	Name     string // the host's name in the lab ("b")
	SSH      string // ssh's destination: user@address or a Host alias of the config
	Config   string // ssh_config to use (ssh -F), "" = ssh's own
	Underlay string // the underlay device there, "" = found by a route lookup
}

// SSHArgs is ssh's command line to run remoteCmd on t: no terminal, no
// password prompts (BatchMode), t's config; the rest is ssh's own.
func (t Target) SSHArgs(remoteCmd string) []string {
	args := []string{"-T", "-o", "BatchMode=yes"}
	if t.Config != "" {
		args = append(args, "-F", t.Config)
	}
	return append(args, "--", t.SSH, remoteCmd)
}

var buildOnce struct {
	sync.Once
	id  string
	err error
}

// Build names this binary: the start of its SHA-256. Two builds of one
// development version differ in it, so an agent is never an older build
// that happens to carry the same version string.
func Build() (string, error) {
	buildOnce.Do(func() {
		f, err := os.Open("/proc/self/exe")
		if err != nil {
			buildOnce.err = fmt.Errorf("read nslua's own binary: %w", err)
			return
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			buildOnce.err = fmt.Errorf("read nslua's own binary: %w", err)
			return
		}
		buildOnce.id = hex.EncodeToString(h.Sum(nil))[:12]
	})
	return buildOnce.id, buildOnce.err
}

var safeWord = regexp.MustCompile(`^[A-Za-z0-9._+-]+$`)

// Quote makes s one word for a POSIX shell (ssh hands the remote command
// to the user's shell as a string).
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// cachedName is the file nslua's binary is copied to on a host:
// ~/.cache/nslua/nslua-VERSION-BUILD.
func cachedName(version, build string) string {
	return "nslua-" + version + "-" + build
}

// copyBinary streams this binary to the host's cache (a temporary name,
// made executable, then renamed: a copy cut short is never run) and
// returns its path there.
func copyBinary(ctx context.Context, t Target, version, build string, log io.Writer) (string, error) {
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		return "", fmt.Errorf("host %s: copy nslua: %w", t.Name, err)
	}
	defer exe.Close()
	name := cachedName(version, build)
	script := fmt.Sprintf(`d="$HOME/.cache/nslua" && mkdir -p "$d" && t="$d/.%s.$$" && { cat > "$t" && chmod 755 "$t" && mv -f "$t" "$d/%s" || { rm -f "$t"; exit 1; }; } && echo "$d/%s"`,
		name, name, name)
	out, err := runSSH(ctx, t, script, exe, log)
	if err != nil {
		return "", fmt.Errorf("copy nslua: %w", err)
	}
	return out, nil
}

// runSSH runs script on t and returns its output's last line.
func runSSH(ctx context.Context, t Target, script string, stdin io.Reader, log io.Writer) (string, error) {
	cmd := exec.CommandContext(ctx, "ssh", t.SSHArgs(script)...)
	cmd.Stdin = stdin
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the terminal's Ctrl-C is the controller's
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("host %s: ssh %s: %v%s", t.Name, t.SSH, err, tail(stderr.String()))
	}
	lines := strings.Fields(strings.TrimSpace(string(out)))
	if len(lines) == 0 {
		return "", fmt.Errorf("host %s: ssh %s: no answer%s", t.Name, t.SSH, tail(stderr.String()))
	}
	return lines[len(lines)-1], nil
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if len(s) > 400 {
		s = "..." + s[len(s)-400:]
	}
	return ": " + strings.ReplaceAll(s, "\n", "; ")
}

// errMissing is what dial gives when the host has no nslua of this build.
var errMissing = errors.New("no nslua of this build there")

// Start starts `nslua agent LAB` on t over ssh and makes the handshake: in
// one ssh session when the host has this very build (the nslua on its PATH,
// or the copy in its cache), else after copying this binary there. The
// agent's stderr (its teardown report, errors) is copied to log, each line
// marked with the host's name.
func Start(ctx context.Context, t Target, labName, version string, log io.Writer) (*Client, error) {
	if !safeWord.MatchString(version) {
		return nil, fmt.Errorf("nslua's version %q is not a plain word: cannot name its copy on host %s", version, t.Name)
	}
	build, err := Build()
	if err != nil {
		return nil, err
	}
	probe := fmt.Sprintf(`for b in nslua "$HOME/.cache/nslua/%s"; do if [ "$("$b" agent --build 2>/dev/null)" = %s ]; then exec "$b" agent %s; fi; done; echo '{"op":"%s"}'`,
		cachedName(version, build), Quote(version+" "+build), Quote(labName), OpMissing)
	c, err := dial(ctx, t, probe, version, build, log)
	if err != nil && strings.Contains(err.Error(), "timed out") && ctx.Err() == nil {
		// A busy host can let ssh's connect or banner exchange time out
		// (its ConnectTimeout) once; one more try, then it is an error.
		c, err = dial(ctx, t, probe, version, build, log)
	}
	if !errors.Is(err, errMissing) {
		return c, err
	}
	bin, err := copyBinary(ctx, t, version, build, log)
	if err != nil {
		return nil, err
	}
	return dial(ctx, t, Quote(bin)+" agent "+Quote(labName), version, build, log)
}

// dial runs remoteCmd (which starts the agent) on t and makes the handshake.
func dial(ctx context.Context, t Target, remoteCmd, version, build string, log io.Writer) (*Client, error) {
	cmd := exec.Command("ssh", t.SSHArgs(remoteCmd)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the terminal's Ctrl-C is the controller's
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("host %s: start ssh: %w", t.Name, err)
	}
	relayed := make(chan struct{})
	errTail := &lineTail{}
	go relay(stderr, log, t.Name, errTail, relayed)
	wait := func() error { <-relayed; return cmd.Wait() }
	c := NewClient(t.Name, stdout, stdin, wait)
	if err := c.Handshake(ctx, version, build); err != nil {
		c.Close(ctx)
		if c.missing {
			return nil, errMissing
		}
		if c.Err() != nil { // ssh ended: it could not connect, or the agent could not start
			return nil, fmt.Errorf("host %s: ssh %s ended before its agent answered%s", t.Name, t.SSH, tail(errTail.String()))
		}
		return nil, fmt.Errorf("%v%s", err, tail(errTail.String()))
	}
	return c, nil
}

// Handshake sends this side's version and checks the agent's answer.
func (c *Client) Handshake(ctx context.Context, version, build string) error {
	r, err := c.Request(ctx, &Msg{Op: OpHello, Version: version, Build: build, Proto: Proto})
	if err != nil {
		return fmt.Errorf("host %s: %w", c.Name, err)
	}
	if r.Err != "" {
		return fmt.Errorf("host %s: %s", c.Name, r.Err)
	}
	if err := CheckHello(version, build, r); err != nil {
		return fmt.Errorf("host %s: %w", c.Name, err)
	}
	c.Hello = r
	return nil
}

// CheckHello compares the other side's hello with this side's version.
func CheckHello(version, build string, m *Msg) error {
	if m.Version != version || m.Build != build || m.Proto != Proto {
		return fmt.Errorf("version mismatch: this side runs nslua %s (build %s, protocol %d), the other nslua %s (build %s, protocol %d)",
			version, build, Proto, m.Version, m.Build, m.Proto)
	}
	return nil
}

// lineTail keeps the last lines written, for an error message.
type lineTail struct {
	mu    sync.Mutex
	lines []string
}

func (t *lineTail) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lines = append(t.lines, s); len(t.lines) > 5 {
		t.lines = t.lines[1:]
	}
}

func (t *lineTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

func relay(r io.Reader, log io.Writer, name string, t *lineTail, done chan struct{}) {
	defer close(done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		t.add(sc.Text())
		fmt.Fprintf(log, "[%s] %s\n", name, sc.Text())
	}
}

// Output runs cmd on t over ssh and returns what it wrote (stdout and
// stderr together) and how it ended.
func Output(ctx context.Context, t Target, cmd string) (string, error) {
	c := exec.CommandContext(ctx, "ssh", t.SSHArgs(cmd)...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := c.CombinedOutput()
	return string(out), err
}

// Record is how a lab's journal says to reach one of its hosts again:
// for `nslua down` and `nslua inspect` on the controller.
type Record struct {
	SSH    string `json:"ssh"`
	Config string `json:"config,omitempty"`
	Bin    string `json:"bin"` // the nslua the run used there
}

// ParseRecord reads a journal's host entry (its name and Cmd).
func ParseRecord(host, how string) (Target, string, error) {
	var rec Record
	if err := json.Unmarshal([]byte(how), &rec); err != nil {
		return Target{}, "", fmt.Errorf("host %s: its journal entry %q: %w", host, how, err)
	}
	return Target{Name: host, SSH: rec.SSH, Config: rec.Config}, rec.Bin, nil
}

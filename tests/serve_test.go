package tests

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bg is an nslua run in the background whose output lines are watched.
type bg struct {
	t   *testing.T
	cmd *exec.Cmd
	mu  sync.Mutex
	out []string // stdout and stderr lines, in arrival order per stream
	new chan struct{}
}

func startBg(t *testing.T, args ...string) *bg {
	b := &bg{t: t, cmd: exec.Command(nslua, args...), new: make(chan struct{}, 1)}
	stdout, _ := b.cmd.StdoutPipe()
	stderr, _ := b.cmd.StderrPipe()
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start nslua %v: %v", args, err)
	}
	for _, r := range []io.Reader{stdout, stderr} {
		go b.scan(r)
	}
	t.Cleanup(func() {
		b.cmd.Process.Kill() // by PID; a no-op once it has exited
		b.cmd.Wait()
	})
	return b
}

func (b *bg) scan(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		b.mu.Lock()
		b.out = append(b.out, sc.Text())
		b.mu.Unlock()
		select {
		case b.new <- struct{}{}:
		default:
		}
	}
}

// waitLine waits for a line containing s and returns it.
func (b *bg) waitLine(s string, timeout time.Duration) string {
	b.t.Helper()
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		for _, l := range b.out {
			if strings.Contains(l, s) {
				b.mu.Unlock()
				return l
			}
		}
		all := strings.Join(b.out, "\n")
		b.mu.Unlock()
		select {
		case <-b.new:
		case <-deadline:
			b.t.Fatalf("nslua %v: no line with %q in %v; output:\n%s", b.cmd.Args[1:], s, timeout, all)
		}
	}
}

// stop sends SIGINT and returns the exit status.
func (b *bg) stop() int {
	b.t.Helper()
	b.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		return 0
	case <-time.After(20 * time.Second):
		b.t.Fatalf("nslua %v did not stop within 20 s of SIGINT", b.cmd.Args[1:])
		return -1
	}
}

const serveLab = `
local p, trigger = arg[1], arg[2]
local a, b = ns.add(p .. "a"), ns.add(p .. "b")
a:veth("ab", b, "ba", {addr = "10.65.0.1/24", peer_addr = "10.65.0.2/24"})
print("built")
while not io.open(trigger) do ns.sleep(0.02) end
a:veth("late0", b, "late1", {addr = "10.66.0.1/24"})
print("added")
ns.wait()
`

// The live page follows the lab: a link the script adds after the page
// loaded shows in the page's DOM within 2 s, and the JSON endpoint holds
// what `nslua inspect --json` prints.
func TestServeFollowsTheLab(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	dir := t.TempDir()
	script, trigger := filepath.Join(dir, "lab.lua"), filepath.Join(dir, "go")
	os.WriteFile(script, []byte(serveLab), 0o644)
	labName := p + "-lab"
	lab := startBg(t, "--lab", labName, script, p, trigger)
	lab.waitLine("built", 30*time.Second)

	srv := startBg(t, "serve", labName, "--listen", "127.0.0.1:0")
	line := srv.waitLine("serving read-only on http://127.0.0.1:", 10*time.Second)
	base := strings.Fields(strings.TrimPrefix(line, "serving read-only on "))[0]
	base = strings.TrimSuffix(base, "/")

	b := startBrowser(t)
	b.open(base + "/")
	srv.waitLine("page connected (1 watching)", 10*time.Second)
	waitDOM(t, b, `Number(document.body.dataset.updates) >= 1`, 5*time.Second) // the stream is live
	if has := pictureHas(b, "late0"); has {
		t.Fatalf("the page shows late0 before the script made it")
	}
	os.WriteFile(trigger, nil, 0o644)
	lab.waitLine("added", 10*time.Second)
	made := time.Now() // late0 exists now
	waitDOM(t, b, `document.getElementById("picture").textContent.includes("late0") &&
		Array.from(document.querySelectorAll("#list button")).length === 2`, 2*time.Second)
	t.Logf("the page showed late0 %v after the script had made it", time.Since(made).Round(time.Millisecond))
	b.screenshot("live.png")
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the live page logged errors: %q", errs)
	}
	checkJSONEndpoint(t, base, p+"a", p+"b")

	if code := srv.stop(); code != 0 {
		t.Errorf("serve ended by SIGINT: exit %d, want 0", code)
	}
	srv.waitLine("stopped", time.Second)
	if code := lab.stop(); code != 0 { // ns.wait returns on SIGINT and the script ends
		t.Errorf("lab ended by SIGINT in ns.wait: exit %d, want 0", code)
	}
}

func waitDOM(t *testing.T, b *browser, cond string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		b.eval("!!("+cond+")", &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not get to %s within %v; it shows:\n%s", cond, timeout, b.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func pictureHas(b *browser, s string) bool {
	var ok bool
	b.eval(`document.getElementById("picture").textContent.includes(`+jsString(s)+`)`, &ok)
	return ok
}

func jsString(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

func checkJSONEndpoint(t *testing.T, base string, names ...string) {
	resp, err := http.Get(base + "/api/inspect")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	out, stderr, code := run(t, "", append([]string{"inspect", "--json"}, names...)...)
	if code != 0 {
		t.Fatalf("inspect --json: %s", stderr)
	}
	var served, inspected any
	if err := json.Unmarshal(body, &served); err != nil {
		t.Fatalf("/api/inspect is not JSON: %v: %s", err, body)
	}
	json.Unmarshal([]byte(out), &inspected)
	// The neighbour count follows traffic (IPv6 neighbour discovery goes on
	// between the two reads): everything else must be equal.
	dropNeighbours(served)
	dropNeighbours(inspected)
	if !reflect.DeepEqual(served, inspected) {
		t.Errorf("/api/inspect differs from inspect --json:\n%s\n---\n%s", body, out)
	}
}

func dropNeighbours(v any) {
	infos, _ := v.([]any)
	for _, info := range infos {
		if m, ok := info.(map[string]any); ok {
			delete(m, "neighbours")
		}
	}
}

// By default serve listens on loopback only: the machine's other
// addresses refuse the connection. A non-loopback --listen is refused
// without --allow-remote. SIGINT stops it with status 0.
func TestServeLoopbackOnly(t *testing.T) {
	if _, stderr, code := run(t, "", "serve", "--listen", "0.0.0.0:0"); code != 2 || !strings.Contains(stderr, "--allow-remote") {
		t.Errorf("serve --listen 0.0.0.0:0: exit %d, %q", code, stderr)
	}
	srv := startBg(t, "serve")
	line := srv.waitLine("serving read-only on http://", 10*time.Second)
	if !strings.Contains(line, "http://127.0.0.1:7464/") || !strings.Contains(line, "Ctrl-C stops") {
		t.Errorf("start line %q: want the default http://127.0.0.1:7464/ and how to stop", line)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:7464", time.Second); err != nil {
		t.Errorf("loopback: %v", err)
	} else {
		c.Close()
	}
	addrs, _ := net.InterfaceAddrs()
	tried := 0
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		tried++
		target := net.JoinHostPort(ipn.IP.String(), "7464")
		if c, err := net.DialTimeout("tcp", target, time.Second); err == nil {
			c.Close()
			t.Errorf("serve answers on %s, a non-loopback address", target)
		}
	}
	t.Logf("tried %d non-loopback addresses", tried)
	if tried == 0 {
		t.Log("this machine has no non-loopback address to try")
	}
	if code := srv.stop(); code != 0 {
		t.Errorf("serve ended by SIGINT: exit %d, want 0", code)
	}
}

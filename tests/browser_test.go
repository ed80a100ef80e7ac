package tests

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// browser is headless Chromium (Debian's chromium) driven over the
// DevTools protocol on --remote-debugging-pipe: JSON messages ended by NUL
// on file descriptors 3 (to it) and 4 (from it). No network port, no
// library: the few calls the tests need are below. Console messages of
// level error and uncaught exceptions are collected from the moment the
// page's target exists, so none is missed.
type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	toB     io.WriteCloser
	session string

	mu      sync.Mutex
	next    int
	pending map[int]chan cdpMsg
	events  map[string]chan struct{} // one-shot waits for an event method
	errors  []string                 // console errors and uncaught exceptions
	done    chan struct{}
}

type cdpMsg struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct{ Message string }
	SessionID string `json:"sessionId,omitempty"`
}

func startBrowser(t *testing.T) *browser {
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed (Debian package chromium, in tests/packages.txt)")
	}
	inR, inW, _ := os.Pipe()   // our commands, its fd 3
	outR, outW, _ := os.Pipe() // its answers, its fd 4
	profile := t.TempDir()
	cmd := exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
		"--user-data-dir="+profile, "--no-first-run", "--disable-extensions", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "about:blank")
	cmd.ExtraFiles = []*os.File{inR, outW}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	inR.Close()
	outW.Close()
	b := &browser{t: t, cmd: cmd, toB: inW, pending: map[int]chan cdpMsg{}, events: map[string]chan struct{}{}, done: make(chan struct{})}
	go b.read(outR)
	t.Cleanup(func() { b.close(&stderr) })
	var target struct{ TargetID string }
	b.callOn("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct{ SessionID string }
	b.callOn("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	b.session = att.SessionID
	for _, m := range []string{"Runtime.enable", "Log.enable", "Page.enable"} {
		b.call(m, nil, nil)
	}
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil)
	return b
}

func (b *browser) close(stderr *bytes.Buffer) {
	b.mu.Lock()
	b.next++
	msg, _ := json.Marshal(map[string]any{"id": b.next, "method": "Browser.close"})
	b.mu.Unlock()
	b.toB.Write(append(msg, 0))
	b.toB.Close()
	exited := make(chan struct{})
	go func() { b.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill() // by PID: the browser this test started
		<-exited
		b.t.Logf("chromium did not close; killed. Its stderr:\n%s", stderr.String())
	}
}

func (b *browser) read(r io.Reader) {
	defer close(b.done)
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMsg
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch := b.pending[m.ID]; ch != nil {
				ch <- m
				delete(b.pending, m.ID)
			}
		} else {
			b.event(m)
		}
		b.mu.Unlock()
	}
}

// event records errors and wakes waiters; b.mu is held.
func (b *browser) event(m cdpMsg) {
	switch m.Method {
	case "Runtime.exceptionThrown":
		var p struct {
			ExceptionDetails struct {
				Text      string
				Exception struct{ Description string }
			}
		}
		json.Unmarshal(m.Params, &p)
		b.errors = append(b.errors, "exception: "+p.ExceptionDetails.Text+" "+p.ExceptionDetails.Exception.Description)
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string
			Args []struct {
				Value       any
				Description string
			}
		}
		json.Unmarshal(m.Params, &p)
		if p.Type == "error" || p.Type == "assert" {
			b.errors = append(b.errors, fmt.Sprintf("console.%s: %v", p.Type, p.Args))
		}
	case "Log.entryAdded":
		var p struct {
			Entry struct{ Level, Text, URL string }
		}
		json.Unmarshal(m.Params, &p)
		if p.Entry.Level == "error" {
			b.errors = append(b.errors, "log: "+p.Entry.Text+" "+p.Entry.URL)
		}
	}
	if ch := b.events[m.Method]; ch != nil {
		close(ch)
		delete(b.events, m.Method)
	}
}

func (b *browser) call(method string, params, result any) {
	b.t.Helper()
	b.callOn(b.session, method, params, result)
}

func (b *browser) callOn(session, method string, params, result any) {
	b.t.Helper()
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan cdpMsg, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	req := map[string]any{"id": id, "method": method}
	if params != nil {
		req["params"] = params
	}
	if session != "" {
		req["sessionId"] = session
	}
	msg, _ := json.Marshal(req)
	if _, err := b.toB.Write(append(msg, 0)); err != nil {
		b.t.Fatalf("chromium %s: %v", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			b.t.Fatalf("chromium %s: %s", method, m.Error.Message)
		}
		if result != nil {
			json.Unmarshal(m.Result, result)
		}
	case <-b.done:
		b.t.Fatalf("chromium %s: the browser exited", method)
	case <-time.After(30 * time.Second):
		b.t.Fatalf("chromium %s: no answer in 30 s", method)
	}
}

// open loads url and waits for its load event.
func (b *browser) open(url string) {
	b.t.Helper()
	loaded := make(chan struct{})
	b.mu.Lock()
	b.events["Page.loadEventFired"] = loaded
	b.mu.Unlock()
	b.call("Page.navigate", map[string]any{"url": url}, nil)
	select {
	case <-loaded:
	case <-time.After(30 * time.Second):
		b.t.Fatalf("chromium: %s did not load in 30 s", url)
	}
}

// eval runs a JavaScript expression in the page and returns its value.
func (b *browser) eval(expr string, v any) {
	b.t.Helper()
	var r struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails *struct{ Text string }
	}
	b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r)
	if r.ExceptionDetails != nil {
		b.t.Fatalf("chromium: %s: %s", expr, r.ExceptionDetails.Text)
	}
	if err := json.Unmarshal(r.Result.Value, v); err != nil {
		b.t.Fatalf("chromium: %s: result %s: %v", expr, r.Result.Value, err)
	}
}

func (b *browser) text() string {
	var s string
	b.eval("document.body.innerText", &s)
	return s
}

// screenshot writes the page as PNG to a file named name in the test's
// artifact directory and logs where it is.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	var r struct{ Data string }
	b.call("Page.captureScreenshot", map[string]any{"format": "png"}, &r)
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		b.t.Fatalf("chromium screenshot is not a PNG (%v)", err)
	}
	path := filepath.Join(artifactDir(b.t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// artifactDir keeps what a person may want to look at after the run
// (screenshots): NSLUA_TEST_ARTIFACTS if set, else a directory of the
// test's own that outlives it, printed with -v.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("NSLUA_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "nslua-test-artifacts")
	}
	dir = filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "-"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

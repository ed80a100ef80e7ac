package remote

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestSSHArgs(t *testing.T) {
	got := strings.Join(Target{SSH: "root@h1", Config: "/x/cfg"}.SSHArgs("nslua agent l"), " ")
	if want := "-T -o BatchMode=yes -F /x/cfg -- root@h1 nslua agent l"; got != want {
		t.Errorf("SSHArgs = %q, want %q", got, want)
	}
	if got := strings.Join(Target{SSH: "h1"}.SSHArgs("x"), " "); got != "-T -o BatchMode=yes -- h1 x" {
		t.Errorf("without a config: %q", got)
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{"a b": `'a b'`, "it's": `'it'\''s'`, "": `''`} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSSHConnection(t *testing.T) {
	c, s, ok := SSHConnection("10.1.0.2 51234 10.1.3.2 22")
	if !ok || c != "10.1.0.2" || s != "10.1.3.2" {
		t.Errorf("got %q %q %v", c, s, ok)
	}
	if _, _, ok := SSHConnection(""); ok {
		t.Error("an empty $SSH_CONNECTION parsed")
	}
}

func TestCheckHello(t *testing.T) {
	if err := CheckHello("1.0", "abc", &Msg{Version: "1.0", Build: "abc", Proto: Proto}); err != nil {
		t.Error(err)
	}
	err := CheckHello("1.0", "abc", &Msg{Version: "0.9", Build: "def", Proto: Proto})
	if err == nil || !strings.Contains(err.Error(), "nslua 1.0") || !strings.Contains(err.Error(), "nslua 0.9") {
		t.Errorf("a mismatch gave %v, want both versions named", err)
	}
}

func TestParseRecord(t *testing.T) {
	tg, bin, err := ParseRecord("h1", `{"ssh":"root@a","config":"/c","bin":"/b/nslua"}`)
	if err != nil || tg.SSH != "root@a" || tg.Config != "/c" || tg.Name != "h1" || bin != "/b/nslua" {
		t.Errorf("got %+v %q %v", tg, bin, err)
	}
	if _, _, err := ParseRecord("h1", "{"); err == nil || !strings.Contains(err.Error(), "host h1") {
		t.Errorf("a bad record gave %v", err)
	}
}

// A client over pipes: requests match their replies, the agent's bye is
// its report, and a connection that ends fails the request waiting.
func TestClientOverPipes(t *testing.T) {
	cr, aw := io.Pipe() // agent -> client
	ar, cw := io.Pipe() // client -> agent
	c := NewClient("b", cr, cw, nil)
	agent := NewConn(ar, aw)
	go func() {
		for {
			m, err := agent.Recv()
			if err != nil {
				agent.Send(&Msg{Op: OpBye, Code: 3})
				aw.Close()
				return
			}
			agent.Send(&Msg{ID: m.ID, Results: []Value{{T: "str", S: m.Method}}})
		}
	}()
	ctx := context.Background()
	for _, method := range []string{"exec", "veth"} {
		r, err := c.Request(ctx, &Msg{Op: OpCall, Method: method})
		if err != nil || len(r.Results) != 1 || r.Results[0].S != method {
			t.Fatalf("%s: %+v, %v", method, r, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	bye, err := c.Close(ctx)
	if err != nil || bye.Code != 3 {
		t.Fatalf("Close: %+v, %v", bye, err)
	}
	if _, err := c.Request(ctx, &Msg{Op: OpCall}); err == nil || !strings.Contains(err.Error(), "lost") {
		t.Errorf("a request after the end gave %v", err)
	}
}

func TestClientLost(t *testing.T) {
	cr, aw := io.Pipe()
	ar, cw := io.Pipe()
	go io.Copy(io.Discard, ar) // an agent that reads, and never answers
	c := NewClient("b", cr, cw, nil)
	go func() { time.Sleep(50 * time.Millisecond); aw.CloseWithError(io.ErrUnexpectedEOF) }()
	_, err := c.Request(context.Background(), &Msg{Op: OpCall, Method: "exec"})
	if err == nil || !strings.Contains(err.Error(), "the connection to its agent is lost") {
		t.Errorf("a lost connection gave %v", err)
	}
	if _, err := c.Close(context.Background()); err == nil || !strings.Contains(err.Error(), "host b") {
		t.Errorf("Close after the loss gave %v", err)
	}
}

// An agent that stops reading its input fills the pipe: a request still
// ends with its context (Ctrl-C), the input is closed, and later requests
// say why rather than write into the broken stream.
func TestClientSendGivesUpWithTheContext(t *testing.T) {
	cr, aw := io.Pipe()
	_, cw := io.Pipe() // nobody reads: every write blocks
	defer aw.Close()
	c := NewClient("b", cr, cw, nil)
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel(errors.New("interrupted")) }()
	done := make(chan error, 1)
	go func() {
		_, err := c.Request(ctx, &Msg{Op: OpCall, Method: "exec"})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || err.Error() != "interrupted" {
			t.Errorf("the blocked request gave %v, want the context's cause", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a request into a full pipe did not end with its context")
	}
	_, err := c.Request(context.Background(), &Msg{Op: OpCall, Method: "veth"})
	if err == nil || !strings.Contains(err.Error(), "host b: its agent's input was closed") {
		t.Errorf("a request after the cut gave %v", err)
	}
}

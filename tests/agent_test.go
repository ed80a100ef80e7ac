package tests

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nslua/nslua/internal/remote"
)

// mhPrefix names what the multi-host tests make.
func mhPrefix(t testing.TB) string {
	b := make([]byte, 2)
	rand.Read(b)
	p := "mh" + hex.EncodeToString(b)
	cleanupPrefix(t, p)
	return p
}

// startAgent runs `nslua agent LAB` over pipes, as ssh would, and makes
// the handshake as the controller does.
func startAgent(t *testing.T, labName string) *remote.Client {
	cmd := exec.Command(nslua, "agent", labName)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := remote.NewClient("pipe", stdout, stdin, cmd.Wait)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c.Close(ctx)
		if t.Failed() {
			t.Logf("agent's stderr:\n%s", stderr.String())
		}
	})
	return c
}

func agentBuild(t *testing.T) (string, string) {
	out, err := exec.Command(nslua, "agent", "--build").Output()
	f := strings.Fields(string(out))
	if err != nil || len(f) != 2 {
		t.Fatalf("nslua agent --build: %q, %v", out, err)
	}
	return f[0], f[1]
}

func call(t *testing.T, c *remote.Client, target int, method string, args ...remote.Value) []remote.Value {
	t.Helper()
	r, err := c.Request(context.Background(), &remote.Msg{Op: remote.OpCall, Target: target, Method: method, Args: args})
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if r.Err != "" {
		t.Fatalf("%s: %s", method, r.Err)
	}
	return r.Results
}

func str(s string) remote.Value { return remote.Value{T: "str", S: s} }

func tab(kv ...remote.Value) remote.Value {
	v := remote.Value{T: "tab"}
	for i := 0; i+1 < len(kv); i += 2 {
		v.K, v.V = append(v.K, kv[i]), append(v.V, kv[i+1])
	}
	return v
}

func field(v remote.Value, key string) remote.Value {
	for i, k := range v.K {
		if k.S == key {
			return v.V[i]
		}
	}
	return remote.Value{T: "nil"}
}

// The agent over pipes: handshake, namespaces and a veth made by calls
// with handles as arguments, a program's bytes back as they are, and
// everything gone once its stdin closes.
func TestAgentOverPipes(t *testing.T) {
	p := mhPrefix(t)
	version, build := agentBuild(t)
	c := startAgent(t, p)
	if err := c.Handshake(context.Background(), version, build); err != nil {
		t.Fatal(err)
	}
	a := call(t, c, 0, "add", str(p+"a"))
	b := call(t, c, 0, "add", str(p+"b"))
	if a[0].T != "h" || a[0].Type != "Netns" || a[0].Label == "" {
		t.Fatalf("ns.add returned %+v, want a Netns handle", a[0])
	}
	links := call(t, c, a[0].H, "veth", str("eth0"), remote.Value{T: "h", H: b[0].H}, str("eth1"),
		tab(str("addr"), str("10.9.0.1/24"), str("peer_addr"), str("10.9.0.2/24")))
	if len(links) != 2 || links[1].Type != "Link" {
		t.Fatalf("veth returned %+v", links)
	}
	res := call(t, c, a[0].H, "exec", str("ping -c1 -W2 10.9.0.2 >/dev/null && printf '\\377ok'"))
	if code := field(res[0], "code"); code.N != 0 {
		t.Fatalf("ping over the agent's veth: %+v", res[0])
	}
	if out := field(res[0], "stdout"); string(out.X) != "\xffok" {
		t.Fatalf("stdout came back as %+v, want the bytes \\377ok", out)
	}
	r, err := c.Request(context.Background(), &remote.Msg{Op: remote.OpGet, Target: links[1].H, Method: "name"})
	if err != nil || len(r.Results) != 1 || r.Results[0].S != "eth1" {
		t.Fatalf("the link's name field: %+v, %v", r, err)
	}
	r, _ = c.Request(context.Background(), &remote.Msg{Op: remote.OpCall, Target: a[0].H, Method: "exec", Args: []remote.Value{{T: "num", N: 1}}})
	if !strings.Contains(r.Err, "exec") {
		t.Fatalf("a bad argument gave %+v, want the method's error", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bye, err := c.Close(ctx)
	if err != nil || bye.Code != 0 {
		t.Fatalf("closing the agent: %+v, %v", bye, err)
	}
	if left := leftovers(p); len(left) > 0 {
		t.Fatalf("left after the agent's end: %v", left)
	}
}

// A controller of another version is refused, naming both; a call still
// running when stdin closes is interrupted and the part torn down.
func TestAgentMismatchAndEOF(t *testing.T) {
	p := mhPrefix(t)
	c := startAgent(t, p)
	err := c.Handshake(context.Background(), "0.0.1-other", "000000000000")
	if err == nil || !strings.Contains(err.Error(), "0.0.1-other") || !strings.Contains(err.Error(), "version mismatch") {
		t.Fatalf("handshake of another version: %v", err)
	}
	version, build := agentBuild(t)
	c = startAgent(t, p+"x")
	if err := c.Handshake(context.Background(), version, build); err != nil {
		t.Fatal(err)
	}
	a := call(t, c, 0, "add", str(p+"a"))
	go c.Request(context.Background(), &remote.Msg{Op: remote.OpCall, Target: a[0].H, Method: "exec", Args: []remote.Value{str("sleep 60")}})
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("the agent took %v to end during a sleep 60", d)
	}
	if left := leftovers(p); len(left) > 0 {
		t.Fatalf("left after the agent's end: %v", left)
	}
}

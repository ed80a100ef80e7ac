package tests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nslua/nslua/internal/repl"
)

// `nslua -i lab.lua`: the script's top-level locals are reachable at the
// prompt, a block's locals are not, and the lab is torn down on Ctrl-D.
func TestREPLScriptLocals(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	script := filepath.Join(t.TempDir(), "lab.lua")
	src := fmt.Sprintf(`local topo = require("nslua.topo")
local star = topo.star{prefix = %q, n = 2, subnet = "10.98.0.0/24"}
local count = #star.leaves
do local scratch = "gone" end
local count = count * 10
`, p)
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	rt := startREPL(t, "--lab", p+"-i", "-i", script)
	rt.expect("top-level locals are globals here", 20*time.Second)
	rt.expect(repl.Prompt, 5*time.Second)
	rt.send("star.leaves[2].ip\r")
	rt.expect("10.98.0.3\r\n", 3*time.Second)
	rt.expect(repl.Prompt, 2*time.Second)
	rt.send("count, scratch\r")
	rt.expect("20\tnil\r\n", 3*time.Second) // the later local shadows; the block's is gone
	rt.expect(repl.Prompt, 2*time.Second)
	rt.send("star.leaves[1].ns:exec({'ping', '-c1', '-W2', star.gateway}).code\r")
	rt.expect("0\r\n", 5*time.Second)
	rt.expect(repl.Prompt, 2*time.Second)
	rt.send("\x04")
	select {
	case <-rt.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("nslua still runs 15s after Ctrl-D")
	}
	if rt.err != nil {
		t.Errorf("nslua exited with %v", rt.err)
	}
	if _, err := os.Stat("/run/netns/" + p + "hub"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lab's hub is still pinned after Ctrl-D (%v)", err)
	}
}

// A script ending with return runs unchanged under -i, and nslua says that
// its locals stay out of reach; piped input reads them otherwise.
func TestREPLScriptLocalsPiped(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.lua")
	ret := filepath.Join(dir, "ret.lua")
	os.WriteFile(plain, []byte("local greeting = 'hi from a local'\nfor i = 1, 2 do local inner = i end\n"), 0o644)
	os.WriteFile(ret, []byte("local greeting = 'hi'\nreturn greeting\n"), 0o644)
	stdout, stderr, code := run(t, "print(greeting, inner, i)\n", "--lab", p+"-a", "-i", plain)
	if code != 0 || stdout != "hi from a local\tnil\tnil\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = run(t, "print(greeting)\n", "--lab", p+"-b", "-i", ret)
	if code != 0 || stdout != "nil\n" || stderr != "nslua: -i: the script ends with return: its locals are not globals here\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

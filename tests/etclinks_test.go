package tests

// Issue 13, items 1-3: symlinks and hard links planted under /etc/netns
// during a run never make nslua write, delete or bind a file elsewhere.
// Every attack here runs against a scratch copy of /etc (etcscratch_test.go).

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The lab of TestEtcTeardownRefusesSwappedDirs: two namespaces with files
// (one overwriting a file that was there), then /etc/netns/PX and
// /etc/netns/PY/sub are swapped for symlinks to /etc itself.
const swapLab = `
local p, how = arg[1], arg[2]
local x = ns.add(p .. "x", {etc = {passwd = "lab passwd\n", hosts = "lab hosts\n"}})
local y = ns.add(p .. "y", {etc = {["sub/shadow"] = "lab shadow\n", ["sub/group"] = "lab group\n"}})
local function sh(cmd) assert(os.execute(cmd), cmd) end
sh("mv /etc/netns/" .. p .. "x /etc/netns/" .. p .. "x.moved && ln -s .. /etc/netns/" .. p .. "x")
sh("mv /etc/netns/" .. p .. "y/sub /etc/netns/" .. p .. "y/sub.moved && ln -s ../.. /etc/netns/" .. p .. "y/sub")
if how == "keep" then ns.keep() end
`

// Item 1: teardown and ` + "`nslua down`" + ` follow no symlink planted during the run:
// the files the links lead to (passwd, hosts, shadow, group of /etc) are
// neither deleted nor "restored", and what was left is reported.
func TestEtcTeardownRefusesSwappedDirs(t *testing.T) {
	for _, how := range []string{"end", "keep"} {
		t.Run(how, func(t *testing.T) {
			p := prefix(t)
			cleanupPrefix(t, p)
			scratch := newScratchEtc(t)
			if err := os.MkdirAll(filepath.Join(scratch, "netns", p+"x"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(scratch, "netns", p+"x", "hosts"), []byte("original\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			script := filepath.Join(t.TempDir(), "swap.lua")
			if err := os.WriteFile(script, []byte(swapLab), 0o644); err != nil {
				t.Fatal(err)
			}
			before := treeSums(t, scratch, "netns")
			cmd := fmt.Sprintf(`"$NSLUA" --lab %s-lab %s %s %s`, p, script, p, how)
			if how == "keep" {
				cmd += fmt.Sprintf(` && "$NSLUA" down %s-lab`, p)
			}
			out, code := scratchRun(t, scratch, cmd)
			t.Logf("%s\n%s", cmd, out)
			if code != 0 {
				t.Errorf("exit %d", code)
			}
			sameTree(t, "the scratch /etc", scratch, before, "netns")
			if !strings.Contains(out, "left /etc/netns/"+p+"x/passwd") || !strings.Contains(out, "left /etc/netns/"+p+"y/sub/shadow") {
				t.Errorf("what was left is not reported")
			}
			if data, err := os.ReadFile(filepath.Join(scratch, "netns", p+"x.moved", "hosts")); err != nil || string(data) != "lab hosts\n" {
				t.Errorf("the moved directory's hosts: %q, %v", data, err)
			}
		})
	}
}

// Item 3: a hard link under /etc/netns/NAME to a host file is neither
// bound (`nslua exec`, both paths; n:exec), written nor read (n:etc), at
// the top or deeper in a bound directory.
func TestEtcHardLinkRefused(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	scratch := newScratchEtc(t)
	for _, d := range []string{p + "x", p + "y/sub"} {
		if err := os.MkdirAll(filepath.Join(scratch, "netns", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []string{p + "x/shadow", p + "y/sub/shadow"} {
		if err := os.Link(filepath.Join(scratch, "shadow"), filepath.Join(scratch, "netns", l)); err != nil {
			t.Fatal(err)
		}
	}
	before := treeSums(t, scratch, "netns")
	lua := fmt.Sprintf(`
		local x = ns.open(%[1]q); local y = ns.open(%[2]q)
		local function refused(what, f, ...)
			local ok, err = pcall(f, ...)
			assert(not ok, what .. " was not refused")
			assert(tostring(err):find("hard link"), what .. ": " .. tostring(err))
		end
		refused("n:etc write", x.etc, x, "shadow", "pwned\n")
		refused("n:etc read", x.etc, x, "shadow")
		refused("n:exec", x.exec, x, {"sh", "-c", "echo pwned >> /etc/shadow"})
		refused("n:exec (nested)", y.exec, y, {"sh", "-c", "echo pwned >> /etc/sub/shadow"})
		print("all refused")`, p+"x", p+"y")
	script := filepath.Join(t.TempDir(), "hard.lua")
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf(`ip netns add %[1]sx && ip netns add %[1]sy || exit 9
		for b in "$NSLUA" "$NSLUA_PURE"; do
			"$b" exec %[1]sx -- sh -c 'echo pwned >> /etc/shadow' && echo "exec with $b: not refused"
			"$b" exec %[1]sy -- sh -c 'echo pwned >> /etc/sub/shadow' && echo "nested, exec with $b: not refused"
		done
		"$NSLUA" --lab %[1]s-lab %[2]s; rc=$?
		ip netns del %[1]sx; ip netns del %[1]sy; exit $rc`, p, script)
	out, code := scratchRun(t, scratch, cmd)
	t.Logf("%s", out)
	if code != 0 || strings.Contains(out, "not refused") || !strings.Contains(out, "all refused") {
		t.Errorf("exit %d: a hard link was used", code)
	}
	if strings.Count(out, "hard link") < 4 {
		t.Errorf("`nslua exec` does not say why it refused")
	}
	sameTree(t, "the scratch /etc", scratch, before, "netns")
}

// Item 2: `nslua exec` (both paths) and n:exec bind what they checked. The
// test swaps /etc/netns/NAME for a symlink to another directory and back,
// as fast as it can, while programs inside write their /etc/hosts; the
// other directory's hosts (standing in for a host file) never changes.
func TestEtcExecBindsWhatItChecked(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	scratch := newScratchEtc(t)
	netns := filepath.Join(scratch, "netns")
	dir, link := filepath.Join(netns, p+"x"), filepath.Join(netns, p+"swap")
	for _, d := range []string{dir, filepath.Join(scratch, "evil")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "hosts"), []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../evil", link); err != nil {
		t.Fatal(err)
	}
	before := treeSums(t, scratch, "netns", "evil")
	var stop atomic.Bool
	var swaps atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // swap the directory and the symlink, atomically, again and again
		defer wg.Done()
		for !stop.Load() {
			if unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, link, unix.RENAME_EXCHANGE) == nil {
				swaps.Add(1)
			}
			time.Sleep(20 * time.Microsecond)
		}
	}()
	lua := fmt.Sprintf(`local n = ns.open(%q)
		for i = 1, 100 do pcall(n.exec, n, {"sh", "-c", "echo pwned >> /etc/hosts"}) end`, p+"x")
	script := filepath.Join(t.TempDir(), "race.lua")
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf(`ip netns add %[1]sx || exit 9
		for i in $(seq 100); do
			"$NSLUA" exec %[1]sx -- sh -c 'echo pwned >> /etc/hosts' 2>/dev/null
			"$NSLUA_PURE" exec %[1]sx -- sh -c 'echo pwned >> /etc/hosts' 2>/dev/null
		done
		"$NSLUA" --lab %[1]s-lab %[2]s; rc=$?
		ip netns del %[1]sx; exit $rc`, p, script)
	out, code := scratchRun(t, scratch, cmd)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d swaps; %s", swaps.Load(), out)
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	if data, _ := os.ReadFile(filepath.Join(scratch, "evil", "hosts")); string(data) != "127.0.0.1 localhost\n" {
		t.Errorf("a program inside wrote the file the symlink points at (%d lines)", strings.Count(string(data), "\n"))
	}
	sameTree(t, "the scratch /etc", scratch, before, "netns", "evil")
}

package tests

// No argument makes nslua touch files outside /run/netns, /run/nslua and
// /etc/netns/NAME: "..", absolute paths and symlinks planted under
// /etc/netns/NAME (or in the lab's directory) are refused, and the files
// they point at are left exactly as they were.

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
	"github.com/nslua/nslua/luabind"
)

// symLab is an in-process lab with the Lua module, for calls that must fail.
type symLab struct {
	L   *lua.LState
	lab *lab.Lab
}

func newSymLab(t *testing.T, p string) *symLab {
	t.Helper()
	r, err := luabind.StartRun(luabind.RunOptions{Lab: p + "-lab", Log: io.Discard, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	r.L.SetGlobal("P", lua.LString(p))
	t.Cleanup(func() {
		if errs := r.Close(); len(errs) > 0 {
			t.Errorf("teardown: %v", errs)
		}
	})
	return &symLab{L: r.L, lab: r.Lab}
}

// run runs a chunk that must succeed.
func (s *symLab) run(t *testing.T, code string) {
	t.Helper()
	if err := s.L.DoString(code); err != nil {
		t.Fatalf("%s: %v", code, err)
	}
}

// refused runs a chunk that must raise an error holding every one of want.
func (s *symLab) refused(t *testing.T, code string, want ...string) {
	t.Helper()
	err := s.L.DoString(code)
	if err == nil {
		t.Errorf("%s: not refused", code)
		return
	}
	msg := err.Error()
	if apiErr, ok := err.(*lua.ApiError); ok {
		msg = apiErr.Object.String()
	}
	t.Logf("%s\n\t-> %s", code, msg)
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: error lacks %q: %s", code, w, msg)
		}
	}
}

// fileSum identifies a file's content, mode and owner.
func fileSum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]) + " " + st.Mode().String()
}

// plant makes /etc/netns/NAME entries (or anything) for one test and
// removes them after it, before cleanupPrefix looks for leftovers.
func plant(t *testing.T, paths ...string) {
	t.Cleanup(func() {
		for _, p := range paths {
			os.RemoveAll(p)
		}
	})
}

// A symlink planted in /etc/netns/NAME that points at /etc/shadow: n:etc
// neither writes nor reads through it, and no program runs in the
// namespace while it is there (bound over /etc, it would let the program
// write the host's file).
func TestSymlinkEntryRefused(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	shadow, passwd := fileSum(t, "/etc/shadow"), fileSum(t, "/etc/passwd")
	dir := "/etc/netns/" + p + "x"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	plant(t, dir)
	if err := os.Symlink("/etc/shadow", filepath.Join(dir, "evil")); err != nil {
		t.Fatal(err)
	}
	s := newSymLab(t, p)
	s.run(t, `n = ns.add(P .. "x")`)

	s.refused(t, `n:etc("evil", "root::0:0:99999:7:::\n")`, ":etc", "symlink")
	s.refused(t, `n:etc("evil")`, ":etc", "symlink")
	s.refused(t, `n:exec({"true"})`, ":exec", "symlink")
	s.refused(t, `n:spawn({"sleep", "10"})`, ":spawn", "symlink")
	s.refused(t, `n:etc("../../passwd", "x")`, ":etc", "..")
	s.refused(t, `n:etc("/etc/passwd", "x")`, ":etc", "absolute")
	s.refused(t, `n:etc("a/../../b", "x")`, ":etc", "..")
	s.refused(t, `n:etc("evil/x", "x")`, ":etc")
	s.refused(t, `ns.add(P .. "y", {etc = {["../x/evil"] = "x"}})`, "ns.add", "..")
	// `nslua exec` refuses too.
	_, stderr, code := run(t, "", "exec", p+"x", "--", "true")
	if code == 0 || !strings.Contains(stderr, "symlink") {
		t.Errorf("nslua exec with a symlink in %s: exit %d, stderr %q", dir, code, stderr)
	}

	if got := fileSum(t, "/etc/shadow"); got != shadow {
		t.Errorf("/etc/shadow changed: %s -> %s", shadow, got)
	}
	if got := fileSum(t, "/etc/passwd"); got != passwd {
		t.Errorf("/etc/passwd changed: %s -> %s", passwd, got)
	}
	if target, err := os.Readlink(filepath.Join(dir, "evil")); err != nil || target != "/etc/shadow" {
		t.Errorf("the planted symlink was changed: %q, %v", target, err)
	}
}

// A symlinked directory on the way: /etc/netns/NAME/sub -> elsewhere.
func TestSymlinkSubdirRefused(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	outside := t.TempDir()
	dir := "/etc/netns/" + p + "x"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	plant(t, dir)
	if err := os.Symlink(outside, filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	s := newSymLab(t, p)
	s.run(t, `n = ns.add(P .. "x")`)
	s.refused(t, `n:etc("sub/file", "x")`, ":etc", "symlink")
	s.refused(t, `n:etc("sub/file")`, ":etc", "symlink")
	s.refused(t, `n:exec({"true"})`, ":exec", "symlink")
	if entries, _ := os.ReadDir(outside); len(entries) > 0 {
		t.Errorf("files appeared where the symlink points: %v", entries)
	}
}

// /etc/netns/NAME itself a symlink (to a directory holding a "hosts"):
// nothing is written there, read from there or bound from there, for a
// namespace the lab made as for one `ip netns add` made.
func TestSymlinkedNetnsDirRefused(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "hosts"), []byte("10.66.0.1 evil\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"y", "z", "w"} {
		link := "/etc/netns/" + p + suffix
		plant(t, link)
		if err := os.Symlink(outside, link); err != nil {
			t.Fatal(err)
		}
	}
	sh(t, "ip netns add "+p+"z")
	t.Cleanup(func() { sh(t, "ip netns del "+p+"z") })

	s := newSymLab(t, p)
	s.run(t, `y = ns.add(P .. "y"); z = ns.open(P .. "z")`)
	for _, n := range []string{"y", "z"} {
		s.refused(t, n+`:etc("hosts", "x")`, ":etc", "symlink")
		s.refused(t, n+`:etc("hosts")`, ":etc", "symlink")
		s.refused(t, n+`:exec({"cat", "/etc/hosts"})`, ":exec", "symlink")
	}
	s.refused(t, `ns.add(P .. "w", {etc = {hosts = "x"}})`, "ns.add", "symlink")
	s.run(t, `assert(not pcall(ns.open, P .. "w"), "the refused namespace is still pinned")`)
	_, stderr, code := run(t, "", "exec", p+"z", "--", "cat", "/etc/hosts")
	if code == 0 || !strings.Contains(stderr, "symlink") {
		t.Errorf("nslua exec with /etc/netns/%sz a symlink: exit %d, stderr %q", p, code, stderr)
	}

	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("files appeared where the symlink points: %v", entries)
	}
	if data, _ := os.ReadFile(filepath.Join(outside, "hosts")); string(data) != "10.66.0.1 evil\n" {
		t.Errorf("the file the symlink points at was changed: %q", data)
	}
}

// spawn's log file stays in the lab's directory: no absolute path outside
// it, no "..", no symlink planted on the way.
func TestSpawnLogConfined(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	target := filepath.Join(os.TempDir(), p+"-target")
	plant(t, target)
	s := newSymLab(t, p)
	logs := filepath.Join(s.lab.Dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(logs, "evil.log")); err != nil {
		t.Fatal(err)
	}
	s.L.SetGlobal("TARGET", lua.LString(target))
	s.run(t, `n = ns.add(P .. "a")`)
	s.refused(t, `n:spawn({"echo", "pwned"}, {log = TARGET})`, ":spawn", "outside the lab's directory")
	s.refused(t, `n:spawn({"echo", "pwned"}, {log = "/etc/`+p+`.log"})`, ":spawn", "outside the lab's directory")
	s.refused(t, `n:spawn({"echo", "pwned"}, {log = "../../../tmp/`+p+`-target"})`, ":spawn", "..")
	s.refused(t, `n:spawn({"echo", "pwned"}, {log = ns.lab().dir .. "/../`+p+`.log"})`, ":spawn", "..")
	s.refused(t, `n:spawn({"echo", "pwned"}, {log = "evil.log"})`, ":spawn", "symlink")
	s.refused(t, `n:spawn({"echo", "pwned"}, {log = ns.lab().dir .. "/logs/evil.log"})`, ":spawn", "symlink")
	// What is allowed: a name, or a path inside the lab's directory.
	s.run(t, `
		local p = n:spawn({"echo", "fine"}, {log = "mine.log"})
		p:wait(10)
		assert(p.log == ns.lab().dir .. "/logs/mine.log", p.log)
		assert(p:output() == "fine\n", p:output())
		local q = n:spawn({"echo", "also"}, {log = ns.lab().dir .. "/q.log"})
		q:wait(10)
		assert(q:output() == "also\n", q:output())
	`)
	if _, err := os.Lstat(target); err == nil {
		t.Errorf("%s was created", target)
	}
	if _, err := os.Stat("/etc/" + p + ".log"); err == nil {
		t.Errorf("/etc/%s.log was created", p)
	}
}

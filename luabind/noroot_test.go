package luabind

import (
	"io"
	"regexp"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/journal"
)

// objectRef finds the calls of badCalls that aim at an object which only a
// real lab can make (setupObjects): without root, those are left out.
var objectRef = regexp.MustCompile(`(^|[^\w."])(n|m|va|vb|br|pr)([^\w"]|$)`)

// needsKernel are object-free bad calls whose refusal comes from the
// kernel (or whose check runs after a namespace is made): root only.
var needsKernel = map[string]bool{
	`ns.add(P .. "z", {sysctl = {["net.ipv4.no_such_key"] = 1}})`: true,
	`ns.add(P .. "a")`:                    true, // "already exists": the root test made it first
	`ns.pin(P .. "a", m.path)`:            true,
	`ns.inspect(P .. "nope")`:             true, // inspect needs the host's namespace handle
	`ns.host():etc("hosts", "x")`:         true, // so does ns.host
	`ns.capture{links = {P .. "a:nope"}}`: true, // names a namespace the root test made
}

// TestBadArgumentsWithoutRoot runs, in a lab with no namespace and its
// journal in a temporary directory, every bad call of badCalls that needs
// neither an object nor the kernel: the argument checks of the bindings
// hold for anyone, and say the same as under root.
func TestBadArgumentsWithoutRoot(t *testing.T) {
	old, oldState := journal.BaseDir, journal.StateDir
	journal.BaseDir, journal.StateDir = t.TempDir(), t.TempDir()
	defer func() { journal.BaseDir, journal.StateDir = old, oldState }()
	r, err := StartRun(RunOptions{Lab: "noroot", Log: io.Discard, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	L := r.L
	b := &biLab{L: L, run: r, prefix: biPrefix()}
	L.SetGlobal("P", lua.LString(b.prefix))
	b.must(t, `BIG = string.rep("x", 2^20); BAD = "\255\254\192"; NUL = "a\0b"`)
	ran := 0
	for _, c := range badCalls {
		if objectRef.MatchString(c.code) || needsKernel[c.code] {
			continue
		}
		ran++
		err := b.do(t, "return "+c.code)
		if err == nil {
			t.Errorf("%s: no error", c.code)
			continue
		}
		msg := err.(*lua.ApiError).Object.String()
		if !strings.Contains(msg, c.needle()) || !strings.Contains(msg, c.want) {
			t.Errorf("%s: error does not name %s and say %q: %s", c.code, c.needle(), c.want, msg)
		}
	}
	if ran < 50 {
		t.Errorf("only %d bad calls ran without root", ran)
	}
	t.Logf("%d of %d bad calls checked without root", ran, len(badCalls))
}

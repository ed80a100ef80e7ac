package luabind

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// biPrefix is a name prefix unique to one test: "t" and 6 hex digits,
// short enough to leave room in a 15-byte interface name.
func biPrefix() string {
	b := make([]byte, 3)
	rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// biLab is a real lab (namespaces, /etc/netns, journal) bound to a fresh
// Lua state, named with a unique prefix; cleanup tears it down and fails
// the test if anything named with the prefix is left.
type biLab struct {
	L      *lua.LState
	run    *Run
	prefix string
}

func startBiLab(t testing.TB) *biLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the bindings are tested against a real lab")
	}
	p := biPrefix()
	r, err := StartRun(RunOptions{Lab: p + "-lab", Log: io.Discard, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	r.L.SetGlobal("P", lua.LString(p))
	b := &biLab{L: r.L, run: r, prefix: p}
	t.Cleanup(func() { b.close(t) })
	return b
}

func (b *biLab) close(t testing.TB) {
	if errs := b.run.Close(); len(errs) > 0 {
		t.Errorf("teardown: %v", errs)
	}
	if left := biLeftovers(b.prefix); len(left) > 0 {
		t.Errorf("left behind: %s", strings.Join(left, ", "))
		biForceRemove(b.prefix)
	}
}

func biLeftovers(p string) []string {
	var left []string
	for _, dir := range []string{"/run/netns", "/etc/netns", "/run/nslua"} {
		matches, _ := filepath.Glob(filepath.Join(dir, p+"*"))
		left = append(left, matches...)
	}
	return left
}

// biForceRemove is the test's own safety net, independent of nslua.
func biForceRemove(p string) {
	pins, _ := filepath.Glob("/run/netns/" + p + "*")
	for _, pin := range pins {
		exec.Command("ip", "netns", "del", filepath.Base(pin)).Run()
	}
	for _, glob := range []string{"/etc/netns/" + p + "*", "/run/nslua/" + p + "*"} {
		matches, _ := filepath.Glob(glob)
		for _, m := range matches {
			os.RemoveAll(m)
		}
	}
}

// do runs a chunk and returns its error, failing the test on a Go panic.
func (b *biLab) do(t testing.TB, code string) error {
	t.Helper()
	fn, err := b.L.LoadString(code)
	if err != nil {
		t.Fatalf("%s: %v", code, err)
	}
	b.L.Push(fn)
	err = b.L.PCall(0, lua.MultRet, nil)
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.Type == lua.ApiErrorPanic {
		t.Fatalf("%s: Go panic: %v\n%s", code, apiErr.Object, apiErr.StackTrace)
	}
	return err
}

func (b *biLab) must(t testing.TB, code string) {
	t.Helper()
	if err := b.do(t, code); err != nil {
		t.Fatalf("%s: %v", code, err)
	}
}

// setupObjects makes one of each object for the bad calls to aim at:
// namespaces n and m, a veth pair va (in n) / vb (in m), a bridge br in n,
// and pr, a process that has exited.
func (b *biLab) setupObjects(t testing.TB) {
	b.must(t, `
		n = ns.add(P .. "a")
		m = ns.add(P .. "b")
		va, vb = n:veth("va", m, "vb")
		br = n:bridge("br0")
		pr = n:spawn({"true"})
		assert(pr:wait(10), "true did not exit")
		BIG = string.rep("x", 2^20)
		BAD = "\255\254\192"
		NUL = "a\0b"
	`)
}

// badCall is one misuse of one entry point.
type badCall struct {
	entry string // "ns.add", "help", "Netns:exec", "Link:up", "Proc:kill"
	code  string // the call, a Lua expression
	want  string // more text the message must hold ("" = only the name)
}

// needle is what an error of the entry point always says: the function
// ("ns.add"), or for a method the method after the object, which errors
// show as "ns1:exec", "ns1/veth0:up" or "Proc:kill".
func (c badCall) needle() string {
	switch {
	case strings.HasPrefix(c.entry, "Netns:"), strings.HasPrefix(c.entry, "Link:"):
		return c.entry[strings.Index(c.entry, ":"):]
	}
	return c.entry
}

// badCalls holds, for every entry point, wrong types, nil, too few and too
// many arguments, huge strings, negative, fractional and non-finite
// numbers, bytes that are not UTF-8, and values the kernel would refuse.
var badCalls = []badCall{
	{"ns.add", `ns.add()`, "argument #1 (name) must be a string, got nil"},
	{"ns.add", `ns.add("x", {host = "nohost"})`, "option host: no host nohost in this lab"},
	{"ns.hosts", `ns.hosts()`, "argument #1 (hosts) must be a table"},
	{"ns.hosts", `ns.hosts{ ["local"] = "x" }`, "is the controller itself"},
	{"ns.hosts", `ns.hosts{ b = 42 }`, "must be an ssh destination"},
	{"ns.hosts", `ns.hosts{ b = "-oProxyCommand=x" }`, "is not a user@host or an alias"},
	{"ns.hosts", `ns.hosts{ b = {ssh = "x", port = "1"} }`, "unknown key port"},
	{"ns.hosts", `ns.hosts{ ssh_config = 1 }`, "ssh_config must be a path"},
	{"ns.place", `ns.place("round")`, "must be \"spread\""},
	{"ns.place", `ns.place(42)`, "got number"},
	{"ns.add", `ns.add(nil)`, "argument #1 (name)"},
	{"ns.add", `ns.add(42)`, "got number"},
	{"ns.add", `ns.add({})`, "got table"},
	{"ns.add", `ns.add(true)`, "got boolean"},
	{"ns.add", `ns.add(print)`, "got function"},
	{"ns.add", `ns.add(n)`, "got Netns"},
	{"ns.add", `ns.add("")`, "empty"},
	{"ns.add", `ns.add("a/b")`, "'/'"},
	{"ns.add", `ns.add("..")`, "reserved"},
	{"ns.add", `ns.add(BIG)`, "bytes long"},
	{"ns.add", `ns.add(P .. string.rep("x", 300))`, "255"},
	{"ns.add", `ns.add(BAD)`, "UTF-8"},
	{"ns.add", `ns.add(NUL)`, "NUL"},
	{"ns.add", `ns.add(P .. "z", 5)`, "argument #2 (options) must be a table"},
	{"ns.add", `ns.add(P .. "z", {bogus = 1})`, `unknown option "bogus"`},
	{"ns.add", `ns.add(P .. "z", {[1] = true})`, "string keys"},
	{"ns.add", `ns.add(P .. "z", {exist_ok = "yes"})`, "option exist_ok must be a boolean"},
	{"ns.add", `ns.add(P .. "z", {etc = 5})`, "option etc must be a table"},
	{"ns.add", `ns.add(P .. "z", {etc = {["/etc/passwd"] = "x"}})`, "absolute"},
	{"ns.add", `ns.add(P .. "z", {etc = {["../../passwd"] = "x"}})`, ".."},
	{"ns.add", `ns.add(P .. "z", {etc = {[BAD] = "x"}})`, "UTF-8"},
	{"ns.add", `ns.add(P .. "z", {etc = {[1] = "x"}})`, "keys must be strings"},
	{"ns.add", `ns.add(P .. "z", {etc = {hosts = {}}})`, "must be a string"},
	{"ns.add", `ns.add(P .. "z", {sysctl = {["kernel.hostname"] = "x"}})`, "net.*"},
	{"ns.add", `ns.add(P .. "z", {sysctl = {["net.ipv4.ip_forward"] = print}})`, "must be a string or a number"},
	{"ns.add", `ns.add(P .. "z", {sysctl = {["net.ipv4.no_such_key"] = 1}})`, "no_such_key"},
	{"ns.add", `ns.add(P .. "z", {}, 3)`, "at most 2 argument(s), got 3"},
	{"ns.add", `ns.add(P .. "z", {share = 5})`, "a string or a list of strings"},
	{"ns.add", `ns.add(P .. "z", {share = {"/etc/hosts"}})`, "not under /run, /var/lib or /tmp"},
	{"ns.add", `ns.add(P .. "z", {share = {"/run/../etc"}})`, "clean"},
	{"ns.add", `ns.add(P .. "z", {share = {"/var/lib"}})`, "private = false"},
	{"ns.add", `ns.add(P .. "z", {share = {"/run/no-such-thing-here"}})`, "no such file"},
	{"ns.add", `ns.add(P .. "z", {private = false, share = {"/run/lock"}})`, "no private state"},
	{"ns.add", `ns.add(P .. "z", {private = "no"})`, "option private"},
	{"ns.add", `ns.add(P .. "a")`, "already exists"},

	{"ns.open", `ns.open()`, "argument #1 (name)"},
	{"ns.open", `ns.open(1)`, "got number"},
	{"ns.open", `ns.open("")`, "empty"},
	{"ns.open", `ns.open("a/b")`, "'/'"},
	{"ns.open", `ns.open(BAD)`, "UTF-8"},
	{"ns.open", `ns.open(BIG)`, "bytes long"},
	{"ns.open", `ns.open(P .. "nope")`, "no namespace"},
	{"ns.open", `ns.open(P .. "a", 2)`, "at most 1"},

	{"ns.pin", `ns.pin()`, "argument #1 (name)"},
	{"ns.pin", `ns.pin(P .. "q")`, "argument #2 (target)"},
	{"ns.pin", `ns.pin(P .. "q", {})`, "argument #2 (target)"},
	{"ns.pin", `ns.pin(P .. "q", 1.5)`, "whole PID"},
	{"ns.pin", `ns.pin(P .. "q", -1)`, "not a process"},
	{"ns.pin", `ns.pin(P .. "q", 0)`, "not a process"},
	{"ns.pin", `ns.pin(P .. "q", 0/0)`, "whole PID"},
	{"ns.pin", `ns.pin(P .. "q", 1/0)`, "whole PID"},
	{"ns.pin", `ns.pin(P .. "q", 1e300)`, "whole PID"},
	{"ns.pin", `ns.pin(P .. "q", 2^31)`, "no process"},
	{"ns.pin", `ns.pin(P .. "q", "relative/path")`, "absolute path"},
	{"ns.pin", `ns.pin(P .. "q", "")`, "absolute path"},
	{"ns.pin", `ns.pin(P .. "q", BIG)`, "absolute path"},
	{"ns.pin", `ns.pin(P .. "q", "/etc/passwd")`, "not a namespace file"},
	{"ns.pin", `ns.pin(P .. "q", "/proc/self/ns/mnt")`, "not a network namespace"},
	{"ns.pin", `ns.pin(BAD, 1)`, "UTF-8"},
	{"ns.pin", `ns.pin(P .. "a", m.path)`, "already exists"},
	{"ns.pin", `ns.pin(P .. "q", 1, 2)`, "at most 2"},

	{"ns.host", `ns.host(1)`, "at most 0"},
	{"ns.list", `ns.list("x")`, "at most 0"},

	{"ns.inspect", `ns.inspect(1)`, "argument #1 (name)"},
	{"ns.inspect", `ns.inspect({})`, "argument #1 (name)"},
	{"ns.inspect", `ns.inspect(BAD)`, "UTF-8"},
	{"ns.inspect", `ns.inspect(P .. "nope")`, "no namespace"},
	{"ns.inspect", `ns.inspect(P .. "a", 1)`, "at most 1"},

	{"ns.veth", `ns.veth()`, "two ends"},
	{"ns.veth", `ns.veth(1)`, "argument #1 (ends) must be a table"},
	{"ns.veth", `ns.veth({})`, "two ends"},
	{"ns.veth", `ns.veth({1, 2})`, "end 1 must be a table"},
	{"ns.veth", `ns.veth({{n, "x"}})`, "two ends"},
	{"ns.veth", `ns.veth({{n, "x"}, {m}})`, "end 2 name must be a string"},
	{"ns.veth", `ns.veth({{n, 1}, {m, "y"}})`, "end 1 name"},
	{"ns.veth", `ns.veth({{1, "x"}, {m, "y"}})`, "end 1 netns"},
	{"ns.veth", `ns.veth({{P .. "nope", "x"}, {m, "y"}})`, "no namespace"},
	{"ns.veth", `ns.veth({{BAD, "x"}, {m, "y"}})`, "UTF-8"},
	{"ns.veth", `ns.veth({{n, "x", 5}, {m, "y"}})`, "end 1 address"},
	{"ns.veth", `ns.veth({{n, BAD}, {m, "y"}})`, "UTF-8"},
	{"ns.veth", `ns.veth({{n, string.rep("a", 16)}, {m, "y"}})`, "limit is 15"},
	{"ns.veth", `ns.veth({{n, "x", "not-a-cidr"}, {m, "y"}})`, "not-a-cidr"},
	{"ns.veth", `ns.veth({{n, "x"}, {m, "y"}}, 2)`, "at most 1"},

	{"ns.keep", `ns.keep(1)`, "at most 0"},
	{"ns.wait", `ns.wait(1)`, "at most 0"},
	{"ns.wait", `ns.wait()`, "not available"},

	{"ns.defer", `ns.defer()`, "argument #1 (fn) must be a function"},
	{"ns.defer", `ns.defer(1)`, "got number"},
	{"ns.defer", `ns.defer("f")`, "got string"},
	{"ns.defer", `ns.defer(n)`, "got Netns"},
	{"ns.defer", `ns.defer(function() end, 2)`, "at most 1"},

	{"ns.sleep", `ns.sleep()`, "argument #1 (seconds) must be a number"},
	{"ns.sleep", `ns.sleep("1")`, "got string"},
	{"ns.sleep", `ns.sleep(-1)`, "out of range"},
	{"ns.sleep", `ns.sleep(0/0)`, "finite"},
	{"ns.sleep", `ns.sleep(1/0)`, "finite"},
	{"ns.sleep", `ns.sleep(1e300)`, "out of range"},
	{"ns.sleep", `ns.sleep(0, 1)`, "at most 1"},

	{"ns.lab", `ns.lab(1)`, "at most 0"},
	{"ns.clock", `ns.clock(1)`, "at most 0"},
	{"ns.check_limits", `ns.check_limits(1)`, "argument #1 (options)"},
	{"ns.check_limits", `ns.check_limits{namespaces = -1}`, "option namespaces"},
	{"ns.check_limits", `ns.check_limits{cores = 2}`, "cores"},
	{"ns.rootless", `ns.rootless(1)`, "at most 0"},
	{"ns.test", `ns.test()`, "argument #1 (name)"},
	{"ns.test", `ns.test("x")`, "argument #2 (fn) must be a function"},
	{"ns.test", `ns.test("a\nb", function() end)`, "one line"},
	{"ns.test", `ns.test("dup", function() end) or ns.test("dup", function() end)`, "already registered"},
	{"ns.skip", `ns.skip()`, "argument #1 (reason)"},
	{"ns.skip", `ns.skip("why")`, "ns.skip: why"},
	{"ns.prefix", `ns.prefix(1)`, "at most 0"},

	{"ns.libfile", `ns.libfile()`, "argument #1 (name)"},
	{"ns.libfile", `ns.libfile(1)`, "got number"},
	{"ns.libfile", `ns.libfile("../../../etc/passwd")`, "no library file"},
	{"ns.libfile", `ns.libfile("/etc/passwd")`, "no library file"},
	{"ns.libfile", `ns.libfile("embed.go")`, "no library file"},
	{"ns.libfile", `ns.libfile("nope")`, "no library file"},
	{"ns.libfile", `ns.libfile(BAD)`, "UTF-8"},
	{"ns.libfile", `ns.libfile("udhcpc.script", 1)`, "at most 1"},

	{"help", `help(1)`, "argument #1 (topic)"},
	{"help", `help({})`, "got table"},
	{"help", `help(true)`, "got boolean"},
	{"help", `help("ns.add", 2)`, "at most 1"},

	{"Netns:exec", `n.exec()`, "as a method"},
	{"Netns:exec", `n.exec(1, "true")`, "as a method"},
	{"Netns:exec", `n.exec(va, "true")`, "must be called on a Netns, got Link"},
	{"Netns:exec", `n:exec()`, "argument #1 (cmd)"},
	{"Netns:exec", `n:exec(1)`, "argument #1 (cmd)"},
	{"Netns:exec", `n:exec({})`, "empty argv"},
	{"Netns:exec", `n:exec("")`, "empty command"},
	{"Netns:exec", `n:exec("   ")`, "empty command"},
	{"Netns:exec", `n:exec({{}})`, "cmd[1] must be a string"},
	{"Netns:exec", `n:exec({"true", x = 1})`, "must be a list"},
	{"Netns:exec", `n:exec({"true", nil, "x"})`, "cmd"},
	{"Netns:exec", `n:exec({NUL})`, "NUL"},
	{"Netns:exec", `n:exec("true", 5)`, "argument #2 (options)"},
	{"Netns:exec", `n:exec("true", {bogus = 1})`, `unknown option "bogus"`},
	{"Netns:exec", `n:exec("true", {timeout = -1})`, "out of range"},
	{"Netns:exec", `n:exec("true", {timeout = 0/0})`, "option timeout"},
	{"Netns:exec", `n:exec("true", {timeout = "1"})`, "option timeout"},
	{"Netns:exec", `n:exec("true", {timeout = 1e300})`, "out of range"},
	{"Netns:exec", `n:exec("true", {env = 5})`, "option env"},
	{"Netns:exec", `n:exec("true", {env = {[1] = "x"}})`, "keys must be strings"},
	{"Netns:exec", `n:exec("true", {env = {A = {}}})`, "must be a string"},
	{"Netns:exec", `n:exec("true", {env = {A = NUL}})`, "NUL"},
	{"Netns:exec", `n:exec("true", {dir = 5})`, "option dir"},
	{"Netns:exec", `n:exec("true", {stdin = {}})`, "option stdin"},
	{"Netns:exec", `n:exec("true", {check = "yes"})`, "option check"},
	{"Netns:exec", `n:exec("exit 3", {check = true})`, "code 3"},
	{"Netns:exec", `n:exec("true", {}, 1)`, "at most 2 argument(s), got 3"},

	{"Netns:spawn", `n.spawn({"true"})`, "as a method"},
	{"Netns:spawn", `n:spawn()`, "argument #1 (cmd)"},
	{"Netns:spawn", `n:spawn({})`, "empty argv"},
	{"Netns:spawn", `n:spawn({"true"}, 1)`, "argument #2 (options)"},
	{"Netns:spawn", `n:spawn({"true"}, {check = true})`, `unknown option "check"`},
	{"Netns:spawn", `n:spawn({"true"}, {log = 5})`, "option log"},
	{"Netns:spawn", `n:spawn({"true"}, {log = "/etc/" .. P .. "-evil.log"})`, "outside the lab's directory"},
	{"Netns:spawn", `n:spawn({"true"}, {log = "../../../etc/" .. P .. "-evil.log"})`, ".."},
	{"Netns:spawn", `n:spawn({"true"}, {log = ns.lab().dir .. "/../x.log"})`, ".."},
	{"Netns:spawn", `n:spawn({"true"}, {log = BAD})`, "UTF-8"},
	{"Netns:spawn", `n:spawn({"true"}, {ready = 5})`, "option ready"},
	{"Netns:spawn", `n:spawn({"true"}, {ready = "[a"})`, "bad Lua pattern"},
	{"Netns:spawn", `n:spawn({"true"}, {ready = "x", ready_timeout = -1})`, "out of range"},
	{"Netns:spawn", `n:spawn({"true"}, {ready = "never printed"})`, "exited before it was ready"},
	{"Netns:spawn", `n:spawn({"/nonexistent/" .. P})`, "not found"},
	{"Netns:spawn", `n:spawn({"true"}, {}, 1)`, "at most 2"},

	{"Netns:etc", `n.etc("hosts")`, "as a method"},
	{"Netns:etc", `n:etc()`, "argument #1 (path) must be a string"},
	{"Netns:etc", `n:etc(1)`, "argument #1 (path)"},
	{"Netns:etc", `n:etc("")`, "empty"},
	{"Netns:etc", `n:etc("/etc/passwd")`, "absolute"},
	{"Netns:etc", `n:etc("/etc/passwd", "x")`, "absolute"},
	{"Netns:etc", `n:etc("../../passwd", "x")`, ".."},
	{"Netns:etc", `n:etc("a/../../b", "x")`, ".."},
	{"Netns:etc", `n:etc("a//b", "x")`, "empty"},
	{"Netns:etc", `n:etc("./hosts", "x")`, "."},
	{"Netns:etc", `n:etc(BAD, "x")`, "UTF-8"},
	{"Netns:etc", `n:etc(NUL, "x")`, "NUL"},
	{"Netns:etc", `n:etc(BIG, "x")`, "bytes long"},
	{"Netns:etc", `n:etc("hosts", 5)`, "argument #2 (content) must be a string"},
	{"Netns:etc", `n:etc("hosts", nil)`, "argument #2 (content)"},
	{"Netns:etc", `n:etc("hosts", "x", "y")`, "at most 2"},
	{"Netns:etc", `ns.host():etc("hosts", "x")`, "host"},

	{"Netns:etc_copy", `n.etc_copy("hosts")`, "as a method"},
	{"Netns:etc_copy", `n:etc_copy()`, "argument #1 (path) must be a string"},
	{"Netns:etc_copy", `n:etc_copy("")`, "empty"},
	{"Netns:etc_copy", `n:etc_copy("../passwd")`, ".."},
	{"Netns:etc_copy", `n:etc_copy("/dev/null")`, "outside /etc"},
	{"Netns:etc_copy", `n:etc_copy("netns/x")`, "inside /etc/netns"},
	{"Netns:etc_copy", `n:etc_copy("hosts", 5)`, "must be a table"},
	{"Netns:etc_copy", `n:etc_copy("hosts", {follow = 1})`, "option follow must be a boolean"},
	{"Netns:etc_copy", `n:etc_copy("hosts", {deep = true})`, "unknown option"},
	{"Netns:etc_copy", `n:etc_copy("hosts", {}, 1)`, "at most 2"},
	{"Netns:etc_copy", `n:etc_copy(P .. "-no-such-file")`, "the host has no /etc/"},
	{"Netns:etc_copy", `ns.host():etc_copy("hosts")`, "host"},
	{"Netns:file", `n.file("/tmp/x")`, "as a method"},
	{"Netns:file", `n:file()`, "argument #1 (path) must be a string"},
	{"Netns:file", `n:file("tmp/x")`, "absolute"},
	{"Netns:file", `n:file("/tmp/" .. NUL)`, "NUL"},
	{"Netns:file", `n:file("/tmp/x", "y")`, "at most 1"},
	{"Netns:file", `n:file("/var/lib")`, "directory"},

	{"Netns:veth", `n:veth()`, "argument #1 (name)"},
	{"Netns:veth", `n:veth(1, m, "y")`, "argument #1 (name)"},
	{"Netns:veth", `n:veth("x")`, "argument #2 (peer_ns)"},
	{"Netns:veth", `n:veth("x", 5, "y")`, "argument #2 (peer_ns)"},
	{"Netns:veth", `n:veth("x", va, "y")`, "got Link"},
	{"Netns:veth", `n:veth("x", P .. "nope", "y")`, "no namespace"},
	{"Netns:veth", `n:veth("x", m)`, "argument #3 (peer_name)"},
	{"Netns:veth", `n:veth("x", m, 5)`, "argument #3 (peer_name)"},
	{"Netns:veth", `n:veth("x", m, "y", 5)`, "argument #4 (options)"},
	{"Netns:veth", `n:veth("x", m, "y", {mtu = 1.5})`, "option mtu"},
	{"Netns:veth", `n:veth("x", m, "y", {mtu = 10})`, "option mtu"},
	{"Netns:veth", `n:veth("x", m, "y", {mtu = 1e9})`, "option mtu"},
	{"Netns:veth", `n:veth("x", m, "y", {mtu = -1500})`, "option mtu"},
	{"Netns:veth", `n:veth("x", m, "y", {addr = 5})`, "option addr"},
	{"Netns:veth", `n:veth("x", m, "y", {addr = {"bad"}})`, "bad"},
	{"Netns:veth", `n:veth("x", m, "y", {mac = "zz"})`, "MAC"},
	{"Netns:veth", `n:veth("x", m, "y", {peer_mac = {}})`, "option peer_mac"},
	{"Netns:veth", `n:veth("x", m, "y", {bogus = 1})`, `unknown option "bogus"`},
	{"Netns:veth", `n:veth(string.rep("a", 16), m, "y")`, "limit is 15"},
	{"Netns:veth", `n:veth("a b", m, "y")`, "contains"},
	{"Netns:veth", `n:veth("a:b", m, "y")`, "contains"},
	{"Netns:veth", `n:veth(BAD, m, "y")`, "UTF-8"},
	{"Netns:veth", `n:veth("x", m, BAD)`, "UTF-8"},
	{"Netns:veth", `n:veth("va", m, "y")`, "va"},
	{"Netns:veth", `n:veth("x", m, "y", {}, 1)`, "at most 4"},

	{"Netns:bridge", `n:bridge()`, "argument #1 (name)"},
	{"Netns:bridge", `n:bridge(1)`, "argument #1 (name)"},
	{"Netns:bridge", `n:bridge("b1", 5)`, "argument #2 (options)"},
	{"Netns:bridge", `n:bridge("b1", {stp = "on"})`, "option stp"},
	{"Netns:bridge", `n:bridge("b1", {group_fwd_mask = -1})`, "option group_fwd_mask"},
	{"Netns:bridge", `n:bridge("b1", {group_fwd_mask = 1.5})`, "option group_fwd_mask"},
	{"Netns:bridge", `n:bridge("b%d")`, "name template"},
	{"Netns:bridge", `n:bridge("b1", {group_fwd_mask = 1e9})`, "option group_fwd_mask"},
	{"Netns:bridge", `n:bridge("b1", {group_fwd_mask = 0/0})`, "option group_fwd_mask"},
	{"Netns:bridge", `n:bridge(BAD)`, "UTF-8"},
	{"Netns:bridge", `n:bridge("br0")`, "br0"},
	{"Netns:bridge", `n:bridge("b1", {}, 1)`, "at most 2"},

	{"Netns:link", `n:link()`, "argument #1 (name)"},
	{"Netns:link", `n:link(1)`, "argument #1 (name)"},
	{"Netns:link", `n:link("nope")`, "nope"},
	{"Netns:link", `n:link(BAD)`, "UTF-8"},
	{"Netns:link", `n:link("lo", 1)`, "at most 1"},

	{"Netns:links", `n:links(1)`, "at most 0"},
	{"Netns:links", `n.links()`, "as a method"},

	{"Netns:addr", `n:addr()`, "argument #1 (dev)"},
	{"Netns:addr", `n:addr("va")`, "argument #2 (cidr)"},
	{"Netns:addr", `n:addr("va", 5)`, "argument #2 (cidr)"},
	{"Netns:addr", `n:addr("va", "bad")`, "bad"},
	{"Netns:addr", `n:addr("va", "10.0.0.1/33")`, "10.0.0.1/33"},
	{"Netns:addr", `n:addr("nope", "10.0.0.1/24")`, "nope"},
	{"Netns:addr", `n:addr(1, "10.0.0.1/24")`, "argument #1 (dev)"},
	{"Netns:addr", `n:addr(BAD, "10.0.0.1/24")`, "UTF-8"},
	{"Netns:addr", `n:addr("va", "10.0.0.1/24", 1)`, "at most 2"},

	{"Netns:route", `n:route()`, "argument #1 (dst)"},
	{"Netns:route", `n:route(1)`, ""},
	{"Netns:route", `n:route({})`, "option dst is required"},
	{"Netns:route", `n:route({dst = 5})`, "option dst"},
	{"Netns:route", `n:route({dst = "default", bogus = 1})`, `unknown option "bogus"`},
	{"Netns:route", `n:route({dst = "default", metric = -1})`, "option metric"},
	{"Netns:route", `n:route({dst = "default", metric = 1.5})`, "option metric"},
	{"Netns:route", `n:route({dst = "default", dev = BAD})`, "UTF-8"},
	{"Netns:route", `n:route({dst = "default"}, 1)`, "either a table"},
	{"Netns:route", `n:route("bad", "10.0.0.9")`, "bad"},
	{"Netns:route", `n:route("default", "bad")`, "bad"},
	{"Netns:route", `n:route("default", 5)`, "argument #2 (via)"},
	{"Netns:route", `n:route("default", "10.9.9.9")`, "10.9.9.9"},
	{"Netns:route", `n:route("default", nil, 5)`, "argument #3 (dev)"},
	{"Netns:route", `n:route("default", nil, "nope")`, "nope"},
	{"Netns:route", `n:route("a", "b", "c", "d")`, "at most 3"},

	{"Netns:sysctl", `n:sysctl()`, "argument #1 (key)"},
	{"Netns:sysctl", `n:sysctl(1)`, "argument #1 (key)"},
	{"Netns:sysctl", `n:sysctl("kernel.hostname")`, "net.*"},
	{"Netns:sysctl", `n:sysctl("net.ipv4./../../kernel/hostname")`, "plain name"},
	{"Netns:sysctl", `n:sysctl("net..ipv4")`, "plain name"},
	{"Netns:sysctl", `n:sysctl("net.ipv4.no_such_key")`, "no_such_key"},
	{"Netns:sysctl", `n:sysctl(BAD)`, "UTF-8"},
	{"Netns:sysctl", `n:sysctl("net.ipv4.ip_forward", {})`, "argument #2 (value)"},
	{"Netns:sysctl", `n:sysctl("net.ipv4.ip_forward", nil)`, "argument #2 (value)"},
	{"Netns:sysctl", `n:sysctl("net.ipv4.ip_forward", 1, 2)`, "at most 2"},

	{"Netns:pids", `n:pids(1)`, "at most 0"},
	{"Netns:inspect", `n:inspect(1)`, "at most 0"},
	{"Netns:inspect", `n.inspect(pr)`, "must be called on a Netns, got Proc"},
	{"Netns:delete", `n:delete(1)`, "at most 0"},
	{"Netns:delete", `n.delete(va)`, "must be called on a Netns, got Link"},

	{"Link:up", `va:up(1)`, "at most 0"},
	{"Link:up", `va.up()`, "as a method"},
	{"Link:up", `va.up(n)`, "must be called on a Link, got Netns"},
	{"Link:down", `va:down(1)`, "at most 0"},
	{"Link:addr", `va:addr()`, "argument #1 (cidr)"},
	{"Link:addr", `va:addr(5)`, "argument #1 (cidr)"},
	{"Link:addr", `va:addr("bad")`, "bad"},
	{"Link:addr", `va:addr("10.0.0.1/33")`, "10.0.0.1/33"},
	{"Link:addr", `va:addr(BAD)`, ""},
	{"Link:addr", `va:addr(BIG)`, ""},
	{"Link:addrs", `va:addrs(1)`, "at most 0"},
	{"Link:mtu", `va:mtu("x")`, "argument #1 (mtu)"},
	{"Link:mtu", `va:mtu(1.5)`, "whole number"},
	{"Link:mtu", `va:mtu(-1)`, "out of range"},
	{"Link:mtu", `va:mtu(0/0)`, "finite"},
	{"Link:mtu", `va:mtu(1e300)`, "argument #1 (mtu)"},
	{"Link:mtu", `va:mtu(10)`, "out of range"},
	{"Link:mtu", `va:mtu(70000)`, "out of range"},
	{"Link:mtu", `va:mtu(1500, 1)`, "at most 1"},
	{"Link:mac", `va:mac(5)`, "argument #1 (mac)"},
	{"Link:mac", `va:mac("zz")`, "MAC"},
	{"Link:mac", `va:mac(BAD)`, ""},
	{"Link:mac", `va:mac("02:00:00:00:00:01", 1)`, "at most 1"},
	{"Link:master", `va:master()`, "argument #1 (bridge) is missing"},
	{"Link:master", `va:master(5)`, "argument #1 (bridge)"},
	{"Link:master", `va:master(n)`, "got Netns"},
	{"Link:master", `va:master(vb)`, ""},
	{"Link:master", `va:master(br, 1)`, "at most 1"},
	{"Link:move", `va:move()`, "argument #1 (netns)"},
	{"Link:move", `va:move(5)`, "argument #1 (netns)"},
	{"Link:move", `va:move(P .. "nope")`, "no namespace"},
	{"Link:move", `va:move(m, 5)`, "argument #2 (new_name)"},
	{"Link:move", `va:move(m, BAD)`, "UTF-8"},
	{"Link:move", `va:move(m, string.rep("a", 16))`, "limit is 15"},
	{"Link:move", `va:move(m, "vb")`, ""},
	{"Link:move", `va:move(m, "x", 1)`, "at most 2"},
	{"Link:delete", `va:delete(1)`, "at most 0"},
	{"Link:delete", `va.delete(pr)`, "must be called on a Link, got Proc"},
	{"Link:info", `va:info(1)`, "at most 0"},
	{"Link:port", `va:port(5)`, "argument #1 (options)"},
	{"Link:port", `va:port({bogus = 1})`, `unknown option "bogus"`},
	{"Link:port", `va:port({learning = "no"})`, "option learning"},
	{"Link:port", `va:port({learning = false})`, ""},
	{"Link:port", `va:port({}, 1)`, "at most 1"},
	{"Link:stp", `br:stp()`, "argument #1 (on) must be a boolean"},
	{"Link:stp", `br:stp("on")`, "argument #1 (on)"},
	{"Link:stp", `br:stp(1)`, "argument #1 (on)"},
	{"Link:stp", `va:stp(true)`, ""},
	{"Link:stp", `br:stp(true, 1)`, "at most 1"},
	{"Link:group_fwd_mask", `br:group_fwd_mask()`, "argument #1 (mask)"},
	{"Link:group_fwd_mask", `br:group_fwd_mask("8")`, "argument #1 (mask)"},
	{"Link:group_fwd_mask", `br:group_fwd_mask(-1)`, "0 to 65535"},
	{"Link:group_fwd_mask", `br:group_fwd_mask(1.5)`, "0 to 65535"},
	{"Link:group_fwd_mask", `br:group_fwd_mask(1e9)`, "0 to 65535"},
	{"Link:group_fwd_mask", `br:group_fwd_mask(0/0)`, "finite"},
	{"Link:group_fwd_mask", `va:group_fwd_mask(8)`, ""},
	{"Link:group_fwd_mask", `br:group_fwd_mask(8, 1)`, "at most 1"},

	{"Proc:alive", `pr:alive(1)`, "at most 0"},
	{"Proc:alive", `pr.alive()`, "as a method"},
	{"Proc:alive", `pr.alive(n)`, "must be called on a Proc, got Netns"},
	{"Proc:wait", `pr:wait("x")`, "argument #1 (timeout)"},
	{"Proc:wait", `pr:wait(-1)`, "out of range"},
	{"Proc:wait", `pr:wait(0/0)`, "finite"},
	{"Proc:wait", `pr:wait(1e300)`, "out of range"},
	{"Proc:wait", `pr:wait(1, 2)`, "at most 1"},
	{"Proc:kill", `pr:kill("NOPE")`, "unknown signal"},
	{"Proc:kill", `pr:kill(BAD)`, "unknown signal"},
	{"Proc:kill", `pr:kill(0)`, "1..64"},
	{"Proc:kill", `pr:kill(65)`, "1..64"},
	{"Proc:kill", `pr:kill(1.5)`, "1..64"},
	{"Proc:kill", `pr:kill(0/0)`, "1..64"},
	{"Proc:kill", `pr:kill({})`, "argument #1 (signal)"},
	{"Proc:kill", `pr:kill(9, 1)`, "at most 1"},
	{"Proc:output", `pr:output(1)`, "at most 0"},
}

// Every entry point, given bad arguments, raises a Lua error that names
// it; no Go panic; nothing is created; and the process works on after.
func TestBadArguments(t *testing.T) {
	b := startBiLab(t)
	b.setupObjects(t)
	before := b.snapshot(t)
	mainNetns, _ := os.Readlink("/proc/self/ns/net")
	for _, c := range badCalls {
		err := b.do(t, "return "+c.code)
		if err == nil {
			t.Errorf("%s: no error", c.code)
			continue
		}
		msg := err.(*lua.ApiError).Object.String()
		if !strings.Contains(msg, c.needle()) {
			t.Errorf("%s: error does not name %s: %s", c.code, c.needle(), msg)
		}
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s: error does not say %q: %s", c.code, c.want, msg)
		}
		if strings.Contains(msg, strings.Repeat("x", 1000)) {
			t.Errorf("%s: error quotes a huge argument whole (%d bytes)", c.code, len(msg))
		}
	}
	if after := b.snapshot(t); after != before {
		t.Errorf("bad calls changed the lab:\nbefore: %s\nafter:  %s", before, after)
	}
	if now, _ := os.Readlink("/proc/self/ns/net"); now != mainNetns {
		t.Errorf("the main thread moved to %s (was %s)", now, mainNetns)
	}
	// Still healthy: the same objects work.
	b.must(t, `
		assert(n:exec("echo ok").stdout == "ok\n", "exec after bad calls")
		va:addr("10.77.0.1/24"); vb:addr("10.77.0.2/24")
		local r = n:exec({"ping", "-c", "1", "-W", "5", "10.77.0.2"})
		assert(r.code == 0, "ping after bad calls: " .. r.stdout .. r.stderr)
		n:etc("hosts", "10.77.0.2 peer\n")
		assert(n:etc("hosts") == "10.77.0.2 peer\n", "etc after bad calls")
	`)
}

// snapshot describes what the lab's namespaces hold and what is pinned
// with the test's prefix, to see that refused calls changed nothing.
func (b *biLab) snapshot(t testing.TB) string {
	t.Helper()
	if err := b.do(t, `
		local function names(links)
			local out = {}
			for _, k in ipairs(links) do out[#out + 1] = k.name end
			table.sort(out)
			return table.concat(out, ",")
		end
		local pins = {}
		for _, name in ipairs(ns.list()) do
			if name:sub(1, #P) == P then pins[#pins + 1] = name end
		end
		SNAP = table.concat(pins, ",") .. " | n: " .. names(n:links()) .. " | m: " .. names(m:links()) ..
			" | n addrs: " .. table.concat(va:addrs(), ",") .. " | mtu " .. va:mtu() ..
			" | fwd " .. n:sysctl("net.ipv4.ip_forward")
	`); err != nil {
		t.Fatal(err)
	}
	etc, _ := filepath.Glob("/etc/netns/" + b.prefix + "*/*")
	sort.Strings(etc)
	return b.L.GetGlobal("SNAP").String() + " | etc: " + strings.Join(etc, ",")
}

// The table covers every function and method the module exposes.
func TestBadArgumentsCoverEveryEntryPoint(t *testing.T) {
	rt := &Runtime{}
	covered := map[string]bool{}
	for _, c := range badCalls {
		covered[c.entry] = true
	}
	var missing []string
	check := func(name string) {
		if !covered[name] {
			missing = append(missing, name)
		}
	}
	check("help")
	for name := range rt.moduleFuncs() {
		check("ns." + name)
	}
	for typ, methods := range map[string]map[string]lua.LGFunction{
		typeNetns: rt.netnsMethods(), typeLink: rt.linkMethods(), typeProc: rt.procMethods(),
	} {
		for name := range methods {
			check(typ + ":" + name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no bad-argument cases for: %s", strings.Join(missing, ", "))
	}
}

// Indexing an object with a key that is not a string finds nothing, as
// for a table; assigning to it raises.
func TestObjectIndexing(t *testing.T) {
	b := startBiLab(t)
	b.must(t, `
		n = ns.add(P .. "a")
		assert(n[{}] == nil and n[1] == nil and n.nope == nil, "odd keys")
		local ok, err = pcall(function() n.name = "x" end)
		assert(not ok and err:find("read-only", 1, true), "assignment: " .. tostring(err))
	`)
}

// A daemon that is not on PATH: an error naming the Debian package that
// installed it (from dpkg's database) and where.
func TestMissingDaemonNamesPackage(t *testing.T) {
	b := startBiLab(t)
	b.must(t, `n = ns.add(P .. "a")`)
	t.Setenv("PATH", t.TempDir())
	err := b.do(t, `return n:spawn({"wpa_supplicant", "-v"})`)
	if err == nil {
		t.Fatal("spawn of a program not on PATH succeeded")
	}
	msg := err.(*lua.ApiError).Object.String()
	for _, want := range []string{":spawn", "wpa_supplicant is not on PATH", "package wpasupplicant installed it as ", "sbin/wpa_supplicant: give that path"} {
		if !strings.Contains(msg, want) {
			t.Errorf("spawn error lacks %q: %s", want, msg)
		}
	}
	b.must(t, `
		local r = n:exec({"hostapd", "-v"})
		assert(r.code == 127, "exec of a missing daemon: code " .. r.code)
		assert(r.stderr:find("package hostapd installed it as ", 1, true), "exec stderr: " .. r.stderr)
	`)
}

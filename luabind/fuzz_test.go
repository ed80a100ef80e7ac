package luabind

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
)

// FuzzLuaAPI calls the Lua API's functions and methods with argument
// tuples built from the fuzzer's bytes: nil, booleans, numbers (negative,
// fractional, huge, NaN, infinite), strings (raw bytes, not UTF-8, NUL,
// up to a megabyte), tables, the module's own objects, functions, foreign
// userdata. Every call must return or raise a Lua error that names the
// function; a Go panic, a hang or a call that leaves the main thread in
// another namespace is a finding.
//
// The calls run against a real lab, so what they may create is kept in
// bounds: names of namespaces they make or name get the run's prefix,
// commands are replaced by `true`, PIDs and nsfs paths by ones of the
// lab's own, ns.keep and the deletes only get their error paths, sleeps
// are made short; what a call creates is removed at once and the lab is
// rebuilt every few hundred calls. CI: -fuzztime 60s (tests/run).
func FuzzLuaAPI(f *testing.F) {
	if os.Geteuid() != 0 {
		f.Skip("needs root: the API is fuzzed against a real lab")
	}
	// Workers are separate processes; they inherit the run's prefix, and
	// the process that started them sweeps whatever a killed worker left.
	base := os.Getenv(fuzzPrefixEnv)
	if base == "" {
		base = "t" + randomHex(2)
		f.Setenv(fuzzPrefixEnv, base)
		f.Cleanup(func() { fuzzSweep(f, base) })
	}
	f.Cleanup(func() {
		if fuzzState != nil {
			if err := fuzzState.close(); err != nil {
				f.Error(err)
			}
			fuzzState = nil
		}
	})
	for i := range 64 {
		f.Add([]byte{byte(i)})
		f.Add([]byte{byte(i), 1, tagDict, 0, tagDict, 3})
		f.Add([]byte{byte(i), 2, tagString, 3, 0xff, 0, 'a', tagNumber, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f})
		f.Add([]byte{byte(i), 3, tagNetns, 1, tagOptions, 2, 0, tagHuge, 1, 1, 5, tagSpecial, 6})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if fuzzState == nil {
			env, err := newFuzzEnv(base + randomHex(2))
			if err != nil {
				t.Fatal(err)
			}
			fuzzState = env
		}
		fuzzState.call(t, data)
	})
}

const fuzzPrefixEnv = "NSLUA_FUZZ_PREFIX"

// fuzzState is this process's lab for the fuzz calls, made on first use.
var fuzzState *fuzzEnv

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// fuzzSweep removes what workers that were killed (at the end of -fuzztime,
// or after a finding) could not tear down themselves, through the journal
// as `nslua down` does, then by force.
func fuzzSweep(f *testing.F, base string) {
	labs, _ := filepath.Glob("/run/nslua/" + base + "*")
	if len(labs) > 0 {
		f.Logf("sweep: labs of workers that were stopped before their teardown: %v", labs)
	}
	for _, dir := range labs {
		if err := lab.Down(filepath.Base(dir), io.Discard, false); err != nil {
			f.Logf("sweep: %v", err)
		}
	}
	biForceRemove(base)
	configs, _ := filepath.Glob(filepath.Join(os.TempDir(), base+"*-ssh_config"))
	for _, c := range configs {
		os.Remove(c)
	}
	if left := biLeftovers(base); len(left) > 0 {
		f.Errorf("fuzz left behind: %s", strings.Join(left, ", "))
	}
}

// fuzzEntry is one function or method of the API.
type fuzzEntry struct {
	name   string // "ns.add", "help", "Netns:exec"...
	typ    string // typeNetns, typeLink, typeProc for a method
	fn     *lua.LFunction
	needle string // what its errors always contain
}

type fuzzEnv struct {
	prefix  string
	b       *biLab
	entries []fuzzEntry
	netns   []*lua.LUserData
	links   []*lua.LUserData
	procs   []*lua.LUserData
	funcs   []lua.LValue
	dict    []string
	calls   int
	mainNs  string
}

const fuzzRebuildEvery = 300

// fuzzSSHConfig makes every ssh of ns.hosts fail at once, without a
// packet sent: the fuzz reaches the error paths, never a machine.
const fuzzSSHConfig = "Host *\n  ProxyCommand /bin/false\n"

func (e *fuzzEnv) sshConfig() string { return filepath.Join(os.TempDir(), e.prefix+"-ssh_config") }

func newFuzzEnv(prefix string) (*fuzzEnv, error) {
	e := &fuzzEnv{prefix: prefix}
	e.mainNs, _ = os.Readlink("/proc/self/ns/net")
	return e, e.build()
}

// build starts the lab and makes the objects the calls aim at.
func (e *fuzzEnv) build() error {
	if err := os.WriteFile(e.sshConfig(), []byte(fuzzSSHConfig), 0o600); err != nil {
		return err
	}
	r, err := StartRun(RunOptions{Lab: e.prefix + "-lab", Log: io.Discard, Out: io.Discard, SSHConfig: e.sshConfig()})
	if err != nil {
		return err
	}
	L := r.L
	L.SetGlobal("P", lua.LString(e.prefix))
	e.b = &biLab{L: L, run: r, prefix: e.prefix}
	err = L.DoString(`
		n = ns.add(P .. "a")
		m = ns.add(P .. "b")
		va, vb = n:veth("va", m, "vb", {addr = "10.99.0.1/24", peer_addr = "10.99.0.2/24"})
		br = n:bridge("br0")
		pr = n:spawn({"true"})
		assert(pr:wait(10), "true did not exit")
		noop = function() end
		boom = function() error("boom") end
	`)
	if err != nil {
		e.close()
		return fmt.Errorf("fuzz lab: %w", err)
	}
	get := func(name string) *lua.LUserData { return L.GetGlobal(name).(*lua.LUserData) }
	e.netns = []*lua.LUserData{get("n"), get("m")}
	e.links = []*lua.LUserData{get("va"), get("vb"), get("br")}
	e.procs = []*lua.LUserData{get("pr")}
	e.funcs = []lua.LValue{L.GetGlobal("noop"), L.GetGlobal("boom"), L.GetGlobal("print")}
	e.entries = fuzzEntries(L)
	e.dict = fuzzDict(e.prefix, r.Lab.Dir)
	return nil
}

// fuzzEntries lists every function and method, in a stable order so that
// an input means the same call in every run.
func fuzzEntries(L *lua.LState) []fuzzEntry {
	var out []fuzzEntry
	mod := L.GetGlobal("ns").(*lua.LTable)
	var names []string
	mod.ForEach(func(k, _ lua.LValue) { names = append(names, k.String()) })
	sort.Strings(names)
	for _, name := range names {
		out = append(out, fuzzEntry{name: "ns." + name, fn: mod.RawGetString(name).(*lua.LFunction), needle: "ns." + name})
	}
	out = append(out, fuzzEntry{name: "help", fn: L.GetGlobal("help").(*lua.LFunction), needle: "help"})
	for _, typ := range []string{typeNetns, typeLink, typeProc} {
		methods := L.GetTypeMetatable(typ).(*lua.LTable).RawGetString("__methods").(*lua.LTable)
		var names []string
		methods.ForEach(func(k, _ lua.LValue) { names = append(names, k.String()) })
		sort.Strings(names)
		for _, name := range names {
			needle := ":" + name
			if typ == typeProc {
				needle = "Proc:" + name
			}
			out = append(out, fuzzEntry{name: typ + ":" + name, typ: typ, fn: methods.RawGetString(name).(*lua.LFunction), needle: needle})
		}
	}
	return out
}

// fuzzDict holds strings that mean something to the API, so that random
// calls also get past the type checks into the real work.
func fuzzDict(prefix, labDir string) []string {
	return []string{
		"", " ", "a", "b", "va", "vb", "br0", "lo", "x", "eth0", "a b", "a/b", "..", ".", "a:b",
		"10.99.0.3/24", "10.99.0.9", "10.98.0.0/16", "fd00::1/64", "default", "0.0.0.0/0", "::/0",
		"02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "zz",
		"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding", "net.ipv4.conf.all.rp_filter", "kernel.hostname", "net..x",
		"hosts", "resolv.conf", "dnsmasq.conf", "sub/dir/file", "../x", "/etc/passwd", "a/../../b", "a//b",
		"TERM", "KILL", "HUP", "SIGUSR1", "NOPE",
		"true", "exit 3", "%d+", "[a", "(", "%", "ready",
		"Netns:exec", "exec", "ns.add", "nope",
		"udhcpc.script", "dhcp.lua", "../embed.go",
		"x.log", "logs/y.log", labDir + "/z.log", labDir + "/../z.log", "/tmp/" + prefix + ".log",
		"\xff\xfe", "a\x00b", strings.Repeat("a", 16), strings.Repeat("é", 8),
	}
}

// Option names, for option tables.
var fuzzOptionKeys = []string{
	"exist_ok", "etc", "sysctl", "private", "share", "env", "dir", "stdin", "timeout", "check", "log", "ready", "ready_timeout",
	"addr", "peer_addr", "mtu", "mac", "peer_mac", "stp", "group_fwd_mask", "dst", "via", "dev", "metric",
	"learning", "locked", "flood", "isolated", "dad", "bogus",
}

var fuzzSpecials = []float64{
	0, -1, 0.5, -0.5, 1, 2, 3, 8, 9, 15, 64, 65, 68, 1500, 65535, 65536, 1 << 31, 1 << 53, 1 << 63,
	1e300, -1e300, math.NaN(), math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64, 4194305, 365 * 24 * 3600,
}

// Value tags: the first byte of each encoded value.
const (
	tagNil = iota
	tagBool
	tagSmallInt
	tagNumber
	tagSpecial
	tagString
	tagHuge
	tagList
	tagOptions
	tagNetns
	tagLink
	tagProc
	tagFunc
	tagDict
	tagForeign
	tagCount
)

// fuzzReader hands out the input's bytes, then zeros.
type fuzzReader struct{ data []byte }

func (r *fuzzReader) byte() byte {
	if len(r.data) == 0 {
		return 0
	}
	c := r.data[0]
	r.data = r.data[1:]
	return c
}

func (r *fuzzReader) bytes(n int) []byte {
	n = min(n, len(r.data))
	out := r.data[:n]
	r.data = r.data[n:]
	return out
}

func (e *fuzzEnv) value(r *fuzzReader, depth int) lua.LValue {
	L := e.b.L
	switch r.byte() % tagCount {
	case tagBool:
		return lua.LBool(r.byte()&1 == 1)
	case tagSmallInt:
		return lua.LNumber(int8(r.byte()))
	case tagNumber:
		var buf [8]byte
		copy(buf[:], r.bytes(8))
		return lua.LNumber(math.Float64frombits(binary.LittleEndian.Uint64(buf[:])))
	case tagSpecial:
		return lua.LNumber(fuzzSpecials[int(r.byte())%len(fuzzSpecials)])
	case tagString:
		return lua.LString(r.bytes(int(r.byte())))
	case tagHuge:
		c, n := r.byte(), 1+int(r.byte()%16)
		return lua.LString(strings.Repeat(string([]byte{c}), n<<16))
	case tagList:
		t := L.NewTable()
		for range int(r.byte() % 5) {
			if depth < 2 {
				t.Append(e.value(r, depth+1))
			}
		}
		return t
	case tagOptions:
		t := L.NewTable()
		for range int(r.byte() % 4) {
			k := r.byte()
			var key lua.LValue = lua.LString(fuzzOptionKeys[int(k)%len(fuzzOptionKeys)])
			if k >= 0xc0 && depth < 2 {
				key = e.value(r, depth+1)
			}
			if f, ok := key.(lua.LNumber); ok && (math.IsNaN(float64(f)) || math.Abs(float64(f)) > 64) {
				// No NaN keys in Lua; and gopher-lua grows a table's array
				// part one slot at a time up to an integer key: t[6e7]
				// would take a gigabyte. Not the API's business.
				key = lua.LNumber(math.Mod(float64(f), 64))
				if math.IsNaN(float64(key.(lua.LNumber))) {
					key = lua.LNumber(0.5)
				}
			}
			if depth < 2 && key != lua.LNil {
				t.RawSet(key, e.value(r, depth+1))
			}
		}
		return t
	case tagNetns:
		return e.netns[int(r.byte())%len(e.netns)]
	case tagLink:
		return e.links[int(r.byte())%len(e.links)]
	case tagProc:
		return e.procs[int(r.byte())%len(e.procs)]
	case tagFunc:
		return e.funcs[int(r.byte())%len(e.funcs)]
	case tagDict:
		return lua.LString(e.dict[int(r.byte())%len(e.dict)])
	case tagForeign:
		if r.byte()&1 == 1 {
			return lua.LChannel(make(chan lua.LValue))
		}
		ud := L.NewUserData()
		ud.Value = 42
		return ud
	}
	return lua.LNil
}

// self picks the object of a method call: mostly the right kind of
// object, sometimes anything (n.exec(...) instead of n:exec(...)).
func (e *fuzzEnv) self(r *fuzzReader, typ string) lua.LValue {
	pick := r.byte()
	if pick%8 == 0 {
		return e.value(r, 0)
	}
	switch typ {
	case typeNetns:
		return e.netns[int(pick)%len(e.netns)]
	case typeLink:
		return e.links[int(pick)%len(e.links)]
	}
	return e.procs[int(pick)%len(e.procs)]
}

func (e *fuzzEnv) call(t *testing.T, data []byte) {
	e.calls++
	if e.calls%fuzzRebuildEvery == 0 {
		e.rebuild(t)
	}
	r := &fuzzReader{data: data}
	entry := e.entries[int(r.byte())%len(e.entries)]
	var args []lua.LValue
	if entry.typ != "" {
		args = append(args, e.self(r, entry.typ))
	}
	for range int(r.byte() % 7) {
		args = append(args, e.value(r, 0))
	}
	args = e.tame(entry, args)

	L := e.b.L
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	L.SetContext(ctx)
	defer L.RemoveContext()
	top := L.GetTop()
	L.Push(entry.fn)
	for _, a := range args {
		L.Push(a)
	}
	err := L.PCall(len(args), lua.MultRet, nil)
	results := make([]lua.LValue, 0, L.GetTop()-top)
	for i := top + 1; i <= L.GetTop(); i++ {
		results = append(results, L.Get(i))
	}
	L.SetTop(top)
	if ctx.Err() != nil {
		t.Fatalf("%s(%s) did not return within 30 s", entry.name, showArgs(args))
	}
	if err != nil {
		var apiErr *lua.ApiError
		if !errors.As(err, &apiErr) {
			t.Fatalf("%s(%s): not a Lua error: %v", entry.name, showArgs(args), err)
		}
		msg := apiErr.Object.String()
		if apiErr.Type == lua.ApiErrorPanic {
			t.Fatalf("%s(%s): Go panic: %s\n%s", entry.name, showArgs(args), msg, apiErr.StackTrace)
		}
		// An error of the script's own code (boom, passed as a callback or
		// set as a timer that fires inside the call's wait) is raised as
		// it is, naming where it was raised, not the call.
		if !strings.Contains(msg, entry.needle) && !strings.Contains(msg, ": boom") {
			t.Fatalf("%s(%s): error does not name %s: %s", entry.name, showArgs(args), entry.needle, msg)
		}
	}
	e.release(t, entry, results)
	if now, _ := os.Readlink("/proc/self/ns/net"); now != e.mainNs {
		t.Fatalf("%s(%s) left the main thread in %s (was %s)", entry.name, showArgs(args), now, e.mainNs)
	}
}

// tame keeps a call's effects inside the fuzz lab: see FuzzLuaAPI.
func (e *fuzzEnv) tame(entry fuzzEntry, args []lua.LValue) []lua.LValue {
	arg := func(i int) lua.LValue { // i counts after self, as the script does
		if entry.typ != "" {
			i++
		}
		if i < len(args) {
			return args[i]
		}
		return nil
	}
	set := func(i int, v lua.LValue) {
		if entry.typ != "" {
			i++
		}
		args[i] = v
	}
	prefixed := func(i int) {
		if s, ok := arg(i).(lua.LString); ok {
			set(i, lua.LString(e.prefix)+s)
		}
	}
	switch entry.name {
	case "ns.hosts":
		if t, ok := arg(0).(*lua.LTable); ok {
			e.tameHosts(t)
		}
	case "ns.keep", "Netns:delete", "Link:delete":
		// Only the error path: keeping would leave the lab behind at
		// teardown, deleting would break the objects the calls aim at.
		if arg(0) == nil {
			args = append(args, lua.LFalse)
		}
	case "ns.sleep":
		if v, ok := arg(0).(lua.LNumber); ok && v >= 0 && v <= 365*24*3600 {
			set(0, lua.LNumber(0))
		}
	case "ns.add", "ns.open", "Link:move":
		prefixed(0)
	case "Netns:veth":
		prefixed(1)
	case "ns.pin":
		prefixed(0)
		switch v := arg(1).(type) {
		case lua.LNumber:
			if v >= 1 {
				set(1, lua.LNumber(4194305)) // above any pid_max: no such process
			}
		case lua.LString:
			if strings.HasPrefix(string(v), "/") {
				set(1, lua.LString(e.netns[1].Value.(*lab.Netns).Path))
			}
		}
	case "ns.veth":
		if ends, ok := arg(0).(*lua.LTable); ok {
			ends.ForEach(func(_, end lua.LValue) {
				if t, ok := end.(*lua.LTable); ok {
					if s, ok := t.RawGetInt(1).(lua.LString); ok {
						t.RawSetInt(1, lua.LString(e.prefix)+s)
					}
				}
			})
		}
	case "Netns:etc":
		// Files under /etc/netns live on the host's disk until the rebuild.
		if s, ok := arg(1).(lua.LString); ok && len(s) > 1<<16 {
			set(1, s[:1<<16])
		}
	case "Netns:exec", "Netns:spawn":
		switch v := arg(0).(type) {
		case lua.LString:
			if strings.TrimSpace(string(v)) != "" {
				set(0, lua.LString("true"))
			}
		case *lua.LTable:
			switch first := v.RawGetInt(1).(type) {
			case lua.LString, lua.LNumber:
				if first.String() != "" {
					v.RawSetInt(1, lua.LString("true"))
				}
			}
		}
	}
	return args
}

// tameHosts points every ssh_config of ns.hosts' table at fuzzSSHConfig.
func (e *fuzzEnv) tameHosts(t *lua.LTable) {
	config := lua.LString(e.sshConfig())
	if t.RawGetString("ssh_config") != lua.LNil {
		t.RawSetString("ssh_config", config)
	}
	t.ForEach(func(_, v lua.LValue) {
		if host, ok := v.(*lua.LTable); ok && host.RawGetString("ssh_config") != lua.LNil {
			host.RawSetString("ssh_config", config)
		}
	})
}

// release removes what a successful call made, so that it does not pile up.
func (e *fuzzEnv) release(t *testing.T, entry fuzzEntry, results []lua.LValue) {
	for _, v := range results {
		ud, ok := v.(*lua.LUserData)
		if !ok {
			continue
		}
		switch obj := ud.Value.(type) {
		case *lab.Netns:
			if entry.name == "ns.add" && !e.inPool(ud) {
				if err := obj.Delete(); err != nil {
					t.Fatalf("delete %s made by the fuzz: %v", obj.Name, err)
				}
			}
		case *lab.Link:
			if fuzzMakesLink[entry.name] && !e.inPool(ud) {
				if err := obj.Delete(); err != nil && !errors.Is(err, lab.ErrNotFound) && !strings.Contains(err.Error(), "no such") {
					t.Fatalf("delete %s made by the fuzz: %v", obj.Name, err)
				}
			}
		}
	}
}

func (e *fuzzEnv) inPool(ud *lua.LUserData) bool {
	for _, set := range [][]*lua.LUserData{e.netns, e.links, e.procs} {
		for _, p := range set {
			if p == ud || p.Value == ud.Value {
				return true
			}
		}
	}
	if n, ok := ud.Value.(*lab.Netns); ok {
		for _, p := range e.netns {
			if p.Value.(*lab.Netns).Name == n.Name {
				return true
			}
		}
	}
	return false
}

// rebuild tears the lab down, checks that it left nothing, and starts
// over: what the calls added (files, addresses, routes) stays bounded.
func (e *fuzzEnv) rebuild(t *testing.T) {
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	if err := e.build(); err != nil {
		t.Fatal(err)
	}
}

func (e *fuzzEnv) close() error {
	if e.b == nil {
		return nil
	}
	// The fuzz registers ns.defer functions that raise: those errors are
	// expected, the teardown's are not.
	var errs []error
	for _, err := range e.b.run.Close() {
		var de *deferError
		if !errors.As(err, &de) {
			errs = append(errs, err)
		}
	}
	e.b = nil
	os.Remove(e.sshConfig())
	if len(errs) > 0 {
		return fmt.Errorf("fuzz lab teardown: %v", errors.Join(errs...))
	}
	if left := biLeftovers(e.prefix); len(left) > 0 {
		biForceRemove(e.prefix)
		return fmt.Errorf("fuzz lab teardown left: %s", strings.Join(left, ", "))
	}
	return nil
}

// showArgs describes a call's arguments for a report, long strings cut.
func showArgs(args []lua.LValue) string {
	parts := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case lua.LString:
			parts[i] = quote(string(v))
		case *lua.LTable:
			var kv []string
			v.ForEach(func(k, x lua.LValue) {
				kv = append(kv, fmt.Sprintf("[%s]=%s", showArgs([]lua.LValue{k}), showArgs([]lua.LValue{x})))
			})
			parts[i] = "{" + strings.Join(kv, ", ") + "}"
		default:
			parts[i] = typeName(a) + " " + a.String()
		}
	}
	return strings.Join(parts, ", ")
}

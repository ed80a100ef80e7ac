package luabind

import (
	"bytes"
	"strings"
	"testing"
)

// Bad arguments to the capture entry points (see TestBadArguments).
var captureBadCalls = []badCall{
	{"ns.capture", `ns.capture()`, "option links must be a list"},
	{"ns.capture", `ns.capture(5)`, "argument #1 (options)"},
	{"ns.capture", `ns.capture{links = {}}`, "option links must be a list"},
	{"ns.capture", `ns.capture{links = va}`, "option links must be a list"},
	{"ns.capture", `ns.capture{links = {5}}`, "links[1] must be a Link"},
	{"ns.capture", `ns.capture{links = {va, n}}`, "links[2] must be a Link"},
	{"ns.capture", `ns.capture{links = {"nocolon"}}`, "not NS:LINK"},
	{"ns.capture", `ns.capture{links = {P .. "nope:eth0"}}`, "no namespace"},
	{"ns.capture", `ns.capture{links = {P .. "a:nope"}}`, "nope"},
	{"ns.capture", `ns.capture{links = {va}, bogus = 1}`, `unknown option "bogus"`},
	{"ns.capture", `ns.capture{links = {va}, count = 0}`, "option count"},
	{"ns.capture", `ns.capture{links = {va}, count = 0/0}`, "option count"},
	{"ns.capture", `ns.capture{links = {va}, filter = BAD}`, "filter"},
	{"ns.capture", `ns.capture({links = {va}}, 1)`, "at most 1"},
	{"ns.capture", `ns.capture{links = {va}, filter = NUL}`, "option filter contains a NUL"},
	{"Link:capture", `va:capture(5)`, "argument #1 (options)"},
	{"Link:capture", `va:capture({links = {}})`, `unknown option "links"`},
	{"Link:capture", `va:capture({file = 5})`, "option file"},
	{"Link:capture", `va:capture({file = ""})`, "must not be empty"},
	{"Link:capture", `va:capture({file = NUL})`, "option file"},
	{"Link:capture", `va:capture({file = "/nonexistent-dir/x.pcapng"})`, "no such file"},
	{"Link:capture", `(function() local f = assert(io.open(ns.lab().dir .. "/notes.txt", "w")); f:write("keep me"); f:close()
		return va:capture({file = ns.lab().dir .. "/notes.txt"}) end)()`, "refusing to overwrite"},
	{"Link:capture", `va:capture({filter = "udp port"})`, "filter"},
	{"Link:capture", `va:capture({count = 1.5})`, "option count"},
	{"Link:capture", `va:capture({}, 1)`, "at most 1"},
	{"Link:capture", `va.capture(pr)`, "must be called on a Link, got Proc"},
}

func init() { badCalls = append(badCalls, captureBadCalls...) }

// A script captures a ping on one link, waits for the count, reads the
// decoded packets; help knows the methods; a capture left running stops
// at teardown.
func TestCaptureFromLua(t *testing.T) {
	b := startBiLab(t)
	b.setupObjects(t)
	b.must(t, `
		va:addr("10.78.0.1/24"); vb:addr("10.78.0.2/24")
		local c = va:capture{count = 2, filter = "icmp"}
		assert(tostring(c):match("^Capture%(" .. P .. "a:va%)$"), tostring(c))
		assert(c.links[1] == P .. "a:va" and c.file == nil, "fields")
		local r = n:exec({"ping", "-c", "1", "-W", "5", "10.78.0.2"})
		assert(r.code == 0, r.stdout .. r.stderr)
		assert(c:wait(5), "the count was not reached")
		assert(c:count() == 2, "count " .. c:count())
		local p = c:packets()
		assert(#p == 2, "#packets " .. #p)
		assert(p[1].proto == "icmp" and p[1].src == "10.78.0.1" and p[1].dst == "10.78.0.2", p[1].summary)
		assert(p[1].summary:match("EchoRequest") and p[2].summary:match("EchoReply"), p[1].summary .. " / " .. p[2].summary)
		assert(p[1].iface == P .. "a:va" and p[1].length == 98 and p[1].time <= p[2].time, "fields of packets")
		assert(math.abs(p[1].time - os.time()) < 60, "time " .. p[1].time)
		assert(c:stop() == 2 and c:stop() == 2, "stop twice")
		assert(c:wait(0) == true, "wait after stop")
		LEFT = ns.capture{links = {va, vb}}
		assert(not LEFT:wait(0.1), "a capture without count does not end by itself")
	`)
	var out bytes.Buffer
	b.run.RT.Out = &out
	b.must(t, `help("Capture:packets")`)
	if !strings.Contains(out.String(), "c:packets() ->") {
		t.Errorf("help: %q", out.String())
	}
}

// A lab captures at most maxCapturedLinks links at once; stopping frees
// them, and a refused capture holds nothing.
func TestCaptureLimit(t *testing.T) {
	b := startBiLab(t)
	b.setupObjects(t)
	b.must(t, `
		local caps = {}
		for i = 1, 8 do caps[i] = ns.capture{links = {va, vb}} end
		local ok, err = pcall(va.capture, va)
		assert(not ok and err:match("limit of 16"), tostring(err))
		caps[1]:stop()
		local c = va:capture()
		local ok2, err2 = pcall(ns.capture, {links = {va, vb}})
		assert(not ok2 and err2:match("limit of 16"), tostring(err2))
		c:stop()
		ns.capture{links = {va, vb}}:stop()
	`)
}

package luabind

import (
	"io"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/lab"
)

// libState is a Lua state with the bindings over a lab that has no
// namespace, its journal in a temporary directory: the built-in libraries
// load, and their pure parts run, without root.
func libState(t *testing.T) *lua.LState { return libStateTo(t, io.Discard) }

// libStateTo is libState with help() and print writing to out.
func libStateTo(t *testing.T, out io.Writer) *lua.LState {
	t.Helper()
	old, oldState := journal.BaseDir, journal.StateDir
	journal.BaseDir, journal.StateDir = t.TempDir(), t.TempDir()
	l, err := lab.Start("libs", "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	L := lua.NewState()
	rt := New(l)
	rt.Out = out
	rt.Open(L)
	t.Cleanup(func() {
		L.Close()
		l.Close()
		journal.BaseDir, journal.StateDir = old, oldState
	})
	return L
}

// libTests are Lua chunks run against the built-in libraries. Each raises
// on failure; raises(fn, ...) checks that a call fails saying every text.
var libTests = map[string]string{
	"util.opts refuses unknown keys": `
		t.eq(util.opts("f", nil, {"a"}), {}, "nil options")
		local o = {a = 1}
		assert(util.opts("f", o, {"a", "b"}) == o)
		raises("f: unknown option \"c\" (known: a, b)", util.opts, "f", {c = 1}, {"b", "a"})
		raises("f: options must have string keys", util.opts, "f", {1}, {"a"})
		raises("f: expected an options table, got number", util.opts, "f", 5, {"a"})`,
	"library options are checked before anything is made": `
		raises("topo.star: unknown option \"leafs\"", topo.star, {prefix = "x", n = 1, leafs = 2})
		raises("topo.chain: unknown option \"links\"", topo.chain, {prefix = "x", n = 2, links = 1})
		raises("topo.router: unknown option \"n\"", topo.router, {prefix = "x", n = 2})
		raises("topo.pairs: unknown option \"hosts\"", topo.pairs, {prefix = "x", hosts = 2})
		raises("topo.star: expected an options table", topo.star)
		raises("dhcp.server: unknown option \"interface\"", dhcp.server, "nope", {interface = "eth0"})
		raises("dhcp.udhcpc: unknown option \"retries\"", dhcp.udhcpc, "nope", "eth0", {retries = 1})
		raises("dhcp.dhclient: unknown option \"tries\"", dhcp.dhclient, "nope", "eth0", {tries = 1})`,
	"config values refuse newlines, CR and NUL": `
		t.eq(util.confval("f", "domain", "x.test"), "x.test", "plain value")
		t.eq(util.confval("f", "lease_time", 600), "600", "number")
		for _, bad in ipairs({"a\nport=53", "a\rb", "a\0b"}) do
			raises("f: domain", util.confval, "f", "domain", bad)
			raises("cannot be written into a configuration file", util.quote, bad)
		end
		raises("cannot be written", util.quote, 'a"b')
		t.eq(util.quote("my ssid"), '"my ssid"', "quote")`,
	"util.poll times with ns.clock": `
		local t0 = ns.clock()
		local calls = 0
		assert(util.poll(0.2, function() calls = calls + 1 end) == nil)
		local took = ns.clock() - t0
		assert(took >= 0.2 and took < 0.9, "poll(0.2) took " .. took .. " s")
		assert(calls >= 3, "fn called " .. calls .. " times")
		t.eq(util.poll(5, function() return "x" end), "x", "a true value at once")`,
	"dnsmasq lease file": `
		local ls = dhcp.parse_leases("1700000000 02:00:00:00:00:01 10.0.0.5 host1 01:02:00:00:00:00:00:01\n" ..
			"0 02:00:00:00:00:02 10.0.0.6 * *\n" ..
			"garbage line\n" ..
			"1700000001 02:00:00:00:00:03 10.0.0.7 trunc")
		t.eq(#ls, 2, "two whole leases")
		t.eq(ls[1], {expires = 1700000000, mac = "02:00:00:00:00:01", ip = "10.0.0.5", hostname = "host1",
			client_id = "01:02:00:00:00:00:00:01"}, "first lease")
		t.eq(ls[2], {expires = 0, mac = "02:00:00:00:00:02", ip = "10.0.0.6"}, "* is no value")
		t.eq(dhcp.parse_leases(nil), {}, "no file")`,
	"dhclient lease file": `
		local text = [[
lease {
  interface "eth0";
  fixed-address 10.80.0.9;
  option subnet-mask 255.255.255.0;
  option dhcp-lease-time 600;
}
lease {
  interface "eth0";
  fixed-address 10.80.0.10;
  option subnet-mask 255.255.255.0;
  option routers 10.80.0.1;
  option dhcp-lease-time 3600;
  option domain-name-servers 10.80.0.1,10.80.0.2;
  option dhcp-server-identifier 10.80.0.1;
  option domain-name "x.test";
}
]]
		t.eq(dhcp.parse_dhclient_lease(text), {ip = "10.80.0.10", netmask = "255.255.255.0", routers = "10.80.0.1",
			dns = "10.80.0.1,10.80.0.2", domain = "x.test", lease_time = 3600, server = "10.80.0.1"}, "the last lease")
		t.eq(dhcp.parse_dhclient_lease("lease {\n  fixed-address 1.2.3.4;"), nil, "a lease cut short")
		t.eq(dhcp.parse_dhclient_lease(""), nil, "empty file")`,
	"cidr arithmetic": `
		local c = topo.cidr
		local p = c.parse("10.1.2.3/24")
		t.eq({p.ip, p.len, p.network, p.netmask, p.broadcast, p.size},
			{"10.1.2.3", 24, "10.1.2.0", "255.255.255.0", "10.1.2.255", 256}, "parse")
		t.eq(c.host("10.0.0.0/24", 1), "10.0.0.1", "first host")
		t.eq(c.host("10.0.0.0/24", -1), "10.0.0.254", "last host")
		t.eq(c.subnet("10.0.0.0/16", 24, 3), "10.0.2.0/24", "third /24")
		t.eq(c.hosts("10.0.0.0/30"), 2, "hosts of a /30")
		t.eq(c.masklen("255.255.240.0"), 20, "masklen")
		assert(c.contains("10.0.0.0/8", "10.9.9.9") and not c.contains("10.0.0.0/8", "11.0.0.1"))
		raises("not contiguous", c.masklen, "255.0.255.0")
		raises("10.0.0.0/30", c.host, "10.0.0.0/30", 3)`,
}

// libPrelude gives the chunks their libraries and two checks.
const libPrelude = `
	util, topo, dhcp = require("nslua.util"), require("nslua.topo"), require("nslua.dhcp")
	local function same(a, b)
		if type(a) ~= "table" or type(b) ~= "table" then return a == b end
		for k, v in pairs(a) do if not same(v, b[k]) then return false end end
		for k in pairs(b) do if a[k] == nil then return false end end
		return true
	end
	local function show(v)
		if type(v) ~= "table" then return tostring(v) end
		local keys = {}
		for k in pairs(v) do keys[#keys + 1] = tostring(k) end
		table.sort(keys)
		local parts = {}
		for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. show(v[k] == nil and v[tonumber(k)] or v[k]) end
		return "{" .. table.concat(parts, ", ") .. "}"
	end
	t = {eq = function(got, want, what)
		if not same(got, want) then error(what .. ": got " .. show(got) .. ", want " .. show(want), 2) end
	end}
	function raises(text, fn, ...)
		local ok, err = pcall(fn, ...)
		if ok then error("no error, want one saying " .. text, 2) end
		if not tostring(err):find(text, 1, true) then error("error " .. tostring(err) .. " does not say " .. text, 2) end
	end
`

func TestLibrariesWithoutRoot(t *testing.T) {
	for name, code := range libTests {
		t.Run(name, func(t *testing.T) {
			L := libState(t)
			if err := L.DoString(libPrelude + code); err != nil {
				t.Fatal(err)
			}
		})
	}
}

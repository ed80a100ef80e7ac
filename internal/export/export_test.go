package export

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/inspect"
	"github.com/nslua/nslua/internal/luastr"
)

func TestStringsReadBackExactly(t *testing.T) {
	for _, s := range []string{"", "plain", "a\"b\\c", "line\nnext\n", "x]]y]=]z", "\r\n\x00\x7f", "\nleading newline", "ünï"} {
		for _, lit := range []string{luastr.Quote(s), longString(s)} {
			L := lua.NewState()
			if err := L.DoString("return " + lit); err != nil {
				t.Fatalf("%q as %s: %v", s, lit, err)
			}
			if got := L.Get(-1).String(); got != s {
				t.Errorf("%s reads back as %q, want %q", lit, got, s)
			}
			L.Close()
		}
	}
}

func TestIdentifiers(t *testing.T) {
	for in, want := range map[string]string{"ns1": "ns1", "a-b.c": "a_b_c", "1x": "n_1x", "": "n_"} {
		if got := identifier(in); got != want {
			t.Errorf("identifier(%q) = %q, want %q", in, got, want)
		}
	}
}

func twoNamespaces() Input {
	a := &inspect.Info{Name: "a", Sysctl: map[string]string{"net.ipv4.ip_forward": "1"},
		Links: []inspect.Link{
			{Name: "lo", Kind: "loopback", State: "up", Addrs: []string{"127.0.0.1/8", "::1/128"}},
			{Name: "br0", Kind: "bridge", State: "up", MTU: 1500, Addrs: []string{"10.0.0.254/24"}},
			{Name: "p1", Kind: "veth", State: "up", MTU: 1500, Master: "br0", Peer: &inspect.Peer{Name: "eth0", NS: "end"}},
			{Name: "up", Kind: "veth", State: "down", MTU: 9000, Addrs: []string{"fe80::1/64", "10.1.0.1/24"}, Peer: &inspect.Peer{Name: "h1", NS: "host"}},
			{Name: "vx", Kind: "vxlan", State: "up"},
		},
		Routes: []inspect.Route{
			{Dst: "10.0.0.0/24", Dev: "br0", Proto: "kernel"},
			{Dst: "default", Via: "10.1.0.2", Dev: "up", Proto: "boot"},
			{Dst: "fe80::/64", Dev: "up", Proto: "kernel"},
		},
		Procs: []inspect.Proc{{PID: 42, Cmd: "dnsmasq -k"}},
	}
	b := &inspect.Info{Name: "end", Sysctl: map[string]string{},
		Links: []inspect.Link{{Name: "eth0", Kind: "veth", State: "up", MTU: 1500, MAC: "02:00:00:00:00:02",
			Addrs: []string{"10.0.0.1/24"}, Peer: &inspect.Peer{Name: "p1", NS: "a"}}}}
	host := &inspect.Info{Name: "host", Links: []inspect.Link{{Name: "h1", Kind: "veth", State: "up", MTU: 1500, Addrs: []string{"10.1.0.2/24"}, Peer: &inspect.Peer{Name: "up", NS: "a"}}}}
	return Input{Infos: []*inspect.Info{a, b}, Host: host, Source: "a test",
		Etc: map[string][]EtcFile{"end": {{Path: "hosts", Content: "10.0.0.254 a\n"}}}}
}

func TestScriptOfTwoNamespaces(t *testing.T) {
	var out strings.Builder
	if err := Lua(&out, twoNamespaces()); err != nil {
		t.Fatal(err)
	}
	script := out.String()
	if _, err := lua.NewState().LoadString(script); err != nil {
		t.Fatalf("not valid Lua: %v\n%s", err, script)
	}
	for _, want := range []string{
		`local a = ns.add("a")`, `local end_2 = ns.add("end")`, `local host = ns.host()`,
		`a:sysctl("net.ipv4.ip_forward", 1)`, `local a_br0 = a:bridge("br0")`,
		`a:veth("p1", end_2, "eth0", {peer_addr = {"10.0.0.1/24"}, peer_mac = "02:00:00:00:00:02"})`,
		`a:veth("up", host, "h1", {addr = {"10.1.0.1/24"}, peer_addr = {"10.1.0.2/24"}, mtu = 9000})`,
		`host:link("h1"):mtu(1500)`, `a:link("up"):down()`,
		`a:link("p1"):master(a_br0)`, `a:addr("br0", "10.0.0.254/24")`,
		`a:route{dst = "default", via = "10.1.0.2", dev = "up"}`,
		"end_2:etc(\"hosts\", [[\n10.0.0.254 a\n]])",
		`-- a: link vx left out: kind vxlan is not exported`,
		`-- a:spawn("dnsmasq -k")  -- was pid 42`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %s\n%s", want, script)
		}
	}
	for _, unwanted := range []string{"fe80::", "127.0.0.1", `"10.0.0.0/24"`} {
		if strings.Contains(script, unwanted) {
			t.Errorf("script holds the kernel's own %s\n%s", unwanted, script)
		}
	}
}

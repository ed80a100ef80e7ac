package tests

import (
	"fmt"
	"strings"
	"testing"
)

func TestLinkKindsLua(t *testing.T) { runLuaTests(t, "linkkinds_test.lua") }

// A kind whose module this kernel lacks fails with one line naming the
// module, and leaves nothing behind.
func TestLinkKindsMissingModule(t *testing.T) {
	cases := []struct{ module, call, kind, name string }{
		{"8021q", `n:vlan("v10", "eth0", 10)`, "vlan", "v10"},
		{"dummy", `n:dummy("d0")`, "dummy", "d0"},
		{"vrf", `n:vrf("vrf1", 10)`, "vrf", "vrf1"},
		{"ip_gre", `n:gretap("gt1", {remote = "10.75.0.2"})`, "gretap", "gt1"},
		{"wireguard", `n:wireguard("wg0")`, "wireguard", "wg0"},
	}
	tried := 0
	for _, c := range cases {
		if haveModule(c.module) {
			continue
		}
		tried++
		t.Run(c.module, func(t *testing.T) {
			p := prefix(t)
			cleanupPrefix(t, p)
			code := fmt.Sprintf(`n = ns.add(%q); n:veth("eth0", n, "eth1"); %s`, p+"n", c.call)
			_, stderr, status := run(t, "", "--lab", p+"-lab", "-e", code)
			want := fmt.Sprintf(`%s %q: the kernel has no %s module`, c.kind, c.name, c.module)
			if status == 0 || !strings.Contains(stderr, want) {
				t.Errorf("exit %d, want an error saying %s:\n%s", status, want, stderr)
			}
		})
	}
	if tried == 0 {
		t.Skip("this kernel has every module")
	}
}

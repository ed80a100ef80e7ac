package tests

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// natRouter makes the router namespace the way a user's own setup would
// (`ip netns add`), outside any lab, and removes it after the test.
func natRouter(t *testing.T, p string) string {
	t.Helper()
	r := p + "r"
	sh(t, "ip netns add "+r)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", r).Run() })
	return r
}

func nftRuleset(t *testing.T, netns string) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", netns, "nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list ruleset in %s: %v\n%s", netns, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Masquerade and a port forward on a router between a client and a "wan"
// namespace; the lab's nftables table is gone after the run.
func TestNATMasqueradeAndForward(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	router := natRouter(t, p)
	out, stderr, code := run(t, "", "--lab", p+"-lab", "nat_lab.lua", p, router, "end")
	if code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"masq ok", "forward ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if rs := nftRuleset(t, router); rs != "" {
		t.Errorf("the router's ruleset after teardown is not empty:\n%s", rs)
	}
	if links := sh(t, "ip -n "+router+" -o link"); strings.Contains(links, p) {
		t.Errorf("links left in the router:\n%s", links)
	}
}

// After kill -9 the table is still there; `nslua down` removes it.
func TestNATKill9ThenDown(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	router := natRouter(t, p)
	lab := p + "-lab"
	r := startNslua(t, "ready", "--lab", lab, "nat_lab.lua", p, router, "wait")
	r.waitReady()
	table := "table ip nslua-" + lab
	if rs := nftRuleset(t, router); !strings.Contains(rs, table) || !strings.Contains(rs, "masquerade") {
		t.Fatalf("the running lab's ruleset lacks %q and its masquerade:\n%s", table, rs)
	}
	r.signal(syscall.SIGKILL)
	r.wait()
	if rs := nftRuleset(t, router); !strings.Contains(rs, table) {
		t.Fatalf("kill -9 removed the table already?\n%s", rs)
	}
	out, stderr, code := run(t, "", "down", "-v", lab)
	if code != 0 {
		t.Fatalf("nslua down: exit %d:\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "removed nftables table nslua-"+lab) {
		t.Errorf("down does not report the table:\n%s", out)
	}
	if rs := nftRuleset(t, router); rs != "" {
		t.Errorf("the router's ruleset after down is not empty:\n%s", rs)
	}
}

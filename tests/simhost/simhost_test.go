package simhost

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func testPrefix() string {
	b := make([]byte, 2)
	rand.Read(b)
	return "sh" + hex.EncodeToString(b)
}

// TestHostsAreMachinesOfTheirOwn checks what labs across hosts rely on:
// root logs in with the key, hosts reach each other over the underlay,
// and what a host writes to /etc, /run/netns or /root stays in it.
func TestHostsAreMachinesOfTheirOwn(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	p := testPrefix()
	s := Start(t, p, 2)
	h1, h2 := s.Hosts[0], s.Hosts[1]
	ssh := func(h *Host, cmd string) string {
		out, err := exec.Command("ssh", "-F", s.SSHConfig, h.Alias, cmd).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh %s %q: %v: %s", h.Alias, cmd, err, out)
		}
		return string(out)
	}
	if out := ssh(h1, "id -u; ip -o -4 addr show dev eth0"); !strings.HasPrefix(out, "0\n") || !strings.Contains(out, h1.Addr+"/24") {
		t.Fatalf("h1 is not root at %s: %q", h1.Addr, out)
	}
	ssh(h1, "ping -c1 -W2 "+h2.Addr)
	ssh(h1, "ip netns add "+p+"x && touch /etc/"+p+" /root/"+p)
	if _, err := os.Stat("/run/netns/" + p + "x"); err == nil {
		t.Errorf("h1's pin is seen in the real /run/netns")
	}
	for _, f := range []string{"/etc/" + p, "/root/" + p} {
		if _, err := os.Stat(f); err == nil {
			os.Remove(f)
			t.Errorf("h1's %s was written to the real one", f)
		}
	}
	if left := s.Leftovers(h1); len(left) != 1 || left[0] != "h1:/run/netns/"+p+"x" {
		t.Errorf("Leftovers(h1) = %q, want the one pin", left)
	}
	if _, err := s.Run(h1, "ip", "netns", "del", p+"x"); err != nil {
		t.Fatal(err)
	}
	if left := s.Leftovers(h1); len(left) != 0 {
		t.Errorf("after del, Leftovers(h1) = %q", left)
	}
	if left := s.Leftovers(h2); len(left) != 0 {
		t.Errorf("Leftovers(h2) = %q", left)
	}
}

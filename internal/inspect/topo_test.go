package inspect

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nslua/nslua/internal/nsfs"
)

// topo is the test lab, built with plain `ip` commands:
//
//	A: br0 (10.77.1.1/24, fd77:1::1/64) with ports ab, ac
//	B: ba (10.77.1.2/24, fd77:1::2/64), bc (10.77.2.1/24), bx <-> by
//	   routes 10.77.9.0/24 via 10.77.2.2, fd77:9::/64 via fd77:1::1
//	C: ca (10.77.1.3/24), cb (10.77.2.2/24, fd77:2::2/64), ch (10.77.3.2/24)
//	   `sleep 100` runs here
//	host: PREFIXh, the peer of ch (down, no address)
//
// veths: ab-ba, ac-ca, bc-cb, bx-by (both in B), ch-PREFIXh.
type topo struct {
	prefix   string
	a, b, c  string
	hostVeth string
	sleep    *exec.Cmd
	etcDir   string
	madeEtc  bool // /etc/netns did not exist before
}

// peerWant is the expected peer of every veth: "ns/link" -> "ns/link".
func (tp *topo) peerWant() map[string]string {
	return map[string]string{
		tp.a + "/ab":          tp.b + "/ba",
		tp.a + "/ac":          tp.c + "/ca",
		tp.b + "/ba":          tp.a + "/ab",
		tp.b + "/bc":          tp.c + "/cb",
		tp.b + "/bx":          tp.b + "/by",
		tp.b + "/by":          tp.b + "/bx",
		tp.c + "/ca":          tp.a + "/ac",
		tp.c + "/cb":          tp.b + "/bc",
		tp.c + "/ch":          "host/" + tp.hostVeth,
		"host/" + tp.hostVeth: tp.c + "/ch",
	}
}

func buildTopo(t *testing.T) *topo {
	needRoot(t)
	p := uniquePrefix(t)
	tp := &topo{prefix: p, a: p + "a", b: p + "b", c: p + "c", hostVeth: p + "h"}
	tp.etcDir = filepath.Join(etcDir, tp.a)
	if _, err := os.Stat(etcDir); os.IsNotExist(err) {
		tp.madeEtc = true
	}
	t.Cleanup(tp.cleanup) // first, so a half-built lab goes too
	for _, ns := range []string{tp.a, tp.b, tp.c} {
		sh(t, "ip", "netns", "add", ns)
	}
	a, b, c := tp.a, tp.b, tp.c
	cmds := [][]string{
		{"-n", a, "link", "add", "br0", "type", "bridge"},
		{"-n", a, "link", "add", "ab", "type", "veth", "peer", "name", "ba", "netns", b},
		{"-n", a, "link", "add", "ac", "type", "veth", "peer", "name", "ca", "netns", c},
		{"-n", a, "link", "set", "ab", "master", "br0"},
		{"-n", a, "link", "set", "ac", "master", "br0"},
		{"-n", b, "link", "add", "bc", "type", "veth", "peer", "name", "cb", "netns", c},
		{"-n", b, "link", "add", "bx", "type", "veth", "peer", "name", "by"},
		{"link", "add", tp.hostVeth, "type", "veth", "peer", "name", "ch", "netns", c},
		{"-n", a, "addr", "add", "10.77.1.1/24", "dev", "br0"},
		{"-n", a, "addr", "add", "fd77:1::1/64", "dev", "br0", "nodad"},
		{"-n", b, "addr", "add", "10.77.1.2/24", "dev", "ba"},
		{"-n", b, "addr", "add", "fd77:1::2/64", "dev", "ba", "nodad"},
		{"-n", b, "addr", "add", "10.77.2.1/24", "dev", "bc"},
		{"-n", c, "addr", "add", "10.77.2.2/24", "dev", "cb"},
		{"-n", c, "addr", "add", "fd77:2::2/64", "dev", "cb", "nodad"},
		{"-n", c, "addr", "add", "10.77.1.3/24", "dev", "ca"},
		{"-n", c, "addr", "add", "10.77.3.2/24", "dev", "ch"},
	}
	for _, cmd := range cmds {
		sh(t, "ip", cmd...)
	}
	ups := map[string][]string{a: {"lo", "br0", "ab", "ac"}, b: {"lo", "ba", "bc", "bx", "by"}, c: {"lo", "ca", "cb", "ch"}}
	for ns, links := range ups {
		for _, l := range links {
			sh(t, "ip", "-n", ns, "link", "set", l, "up")
		}
	}
	sh(t, "ip", "-n", b, "route", "add", "10.77.9.0/24", "via", "10.77.2.2")
	sh(t, "ip", "-n", b, "-6", "route", "add", "fd77:9::/64", "via", "fd77:1::1")
	sh(t, "ip", "netns", "exec", a, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	sh(t, "ip", "netns", "exec", b, "sysctl", "-qw", "net.ipv4.ip_forward=0")
	tp.startSleep(t)
	tp.makeEtc(t)
	waitSettled(t, a, b, c)
	return tp
}

func (tp *topo) startSleep(t *testing.T) {
	tp.sleep = exec.Command("ip", "netns", "exec", tp.c, "sleep", "100")
	if err := tp.sleep.Start(); err != nil {
		t.Fatalf("start sleep in %s: %v", tp.c, err)
	}
	// `ip netns exec` execs sleep in place: wait until it has.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if cmd, _ := cmdline(tp.sleep.Process.Pid); cmd == "sleep 100" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sleep in %s did not start", tp.c)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (tp *topo) makeEtc(t *testing.T) {
	if err := os.MkdirAll(tp.etcDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"resolv.conf", tp.prefix + "-missing"} {
		if err := os.WriteFile(filepath.Join(tp.etcDir, name), []byte("nameserver 10.77.1.1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func (tp *topo) cleanup() {
	if tp.sleep != nil && tp.sleep.Process != nil {
		tp.sleep.Process.Kill()
		tp.sleep.Wait()
	}
	for _, ns := range []string{tp.a, tp.b, tp.c} {
		quiet("ip", "netns", "del", ns)
	}
	quiet("ip", "link", "del", tp.hostVeth)
	os.RemoveAll(tp.etcDir)
	if tp.madeEtc {
		os.Remove(etcDir) // only if still empty
	}
}

// waitSettled waits until the kernel has finished reacting to the links
// coming up: carrier changes reach addrconf through the linkwatch worker,
// up to a second later, and only then do the fe80:: addresses and routes
// appear. Both this package and `ip` must see the same, finished state.
func waitSettled(t *testing.T, namespaces ...string) {
	deadline := time.Now().Add(5 * time.Second)
	for _, ns := range namespaces {
		for !settled(t, ns) {
			if time.Now().After(deadline) {
				t.Fatalf("links of %s did not settle: %s", ns, sh(t, "ip", "-n", ns, "addr"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func settled(t *testing.T, ns string) bool {
	var links []struct {
		ipLink
		Oper     string `json:"operstate"`
		LinkType string `json:"link_type"`
	}
	ipJSON(t, &links, "-n", ns, "addr")
	for _, l := range links {
		if l.LinkType == "loopback" || !has(l.Flags, "UP") || !has(l.Flags, "LOWER_UP") {
			continue
		}
		linkLocal := false
		for _, a := range l.AddrInfo {
			linkLocal = linkLocal || strings.HasPrefix(a.Local, "fe80:")
		}
		if l.Oper != "UP" || !linkLocal {
			return false
		}
	}
	return true
}

// topoOwner says the lab "demo" owns namespace A.
func (tp *topo) owner(t *testing.T) func(uint64) string {
	inode, err := nsfs.Inode(nsfs.PinPath(tp.a))
	if err != nil {
		t.Fatal(err)
	}
	return func(i uint64) string {
		if i == inode {
			return "demo"
		}
		return ""
	}
}

func pidString(pid int) string { return strconv.Itoa(pid) }

func infoByName(t *testing.T, infos []*Info, name string) *Info {
	t.Helper()
	for _, i := range infos {
		if i.Name == name {
			return i
		}
	}
	t.Fatalf("no namespace %q among %d inspected", name, len(infos))
	return nil
}

func linkOf(t *testing.T, info *Info, name string) Link {
	t.Helper()
	for _, l := range info.Links {
		if l.Name == name {
			return l
		}
	}
	t.Fatalf("%s has no link %q", info.Name, name)
	return Link{}
}

func describe(info *Info) string {
	var b strings.Builder
	WriteText(&b, []*Info{info})
	return fmt.Sprintf("\n%s", b.String())
}

package tests

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nslua/nslua/internal/lab"
)

func TestLinksLua(t *testing.T) { runLuaTests(t, "links_test.lua") }

// One netlink socket per namespace, opened when the lab first uses the
// namespace and closed at teardown: link work opens no more of them and
// leaves no thread in another namespace.
func TestLinksOneNetlinkSocketPerNamespace(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	hostNet, _ := os.Readlink("/proc/self/ns/net")
	base := openSockets(t)
	l, err := lab.Start(p+"-lab", "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			l.Close()
		}
	}()
	a, err := l.Add(p+"a", lab.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Add(p+"b", lab.AddOptions{Sysctl: map[string]string{"net.ipv4.ip_forward": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	withNs := openSockets(t)
	if withNs-base > 2 {
		t.Errorf("two namespaces hold %d sockets, want at most 2", withNs-base)
	}
	linkWork(t, a, b)
	if got := openSockets(t); got != withNs {
		t.Errorf("after link work %d sockets are open, before %d: handles are not reused", got, withNs)
	}
	var stray []string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		// thrown-away threads leave /proc a moment after their work
		if stray = threadsElsewhere(hostNet); len(stray) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, s := range stray {
		t.Errorf("thread in another namespace than the host's %s: %s", hostNet, s)
	}
	closed = true
	if errs := l.Close(); len(errs) > 0 {
		t.Fatalf("teardown: %v", errs)
	}
	if got := openSockets(t); got != base {
		t.Errorf("after teardown %d sockets are open, before the lab %d", got, base)
	}
}

// linkWork does a bit of everything the link API offers.
func linkWork(t *testing.T, a, b *lab.Netns) {
	t.Helper()
	on := true
	mask := uint16(8)
	br, err := a.Bridge("br0", lab.BridgeOptions{STP: &on, GroupFwdMask: &mask})
	check(t, err)
	for i := range 10 {
		ka, kb, err := a.Veth(fmt.Sprintf("v%d", i), b, fmt.Sprintf("w%d", i), lab.VethOptions{
			Addr: []string{fmt.Sprintf("10.20.%d.1/24", i)}, PeerAddr: []string{fmt.Sprintf("10.20.%d.2/24", i), fmt.Sprintf("fd00:%d::2/64", i)},
			MTU: 1400,
		})
		check(t, err)
		check(t, kb.SetMTU(1300))
		_, err = kb.Addrs()
		check(t, err)
		check(t, b.AddRoute(lab.Route{Dst: fmt.Sprintf("10.30.%d.0/24", i), Via: fmt.Sprintf("10.20.%d.1", i), Metric: i}))
		check(t, ka.SetMaster(br))
		off := false
		check(t, ka.SetPort(lab.PortOptions{Learning: &off, Locked: &on}))
		_, err = b.Links()
		check(t, err)
		_, err = b.Sysctl("net.ipv4.ip_forward")
		check(t, err)
	}
	k, err := b.Link("w0")
	check(t, err)
	check(t, k.Move(a, "moved0"))
	check(t, k.Delete())
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// openSockets counts this process's open sockets.
func openSockets(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}

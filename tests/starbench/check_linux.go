package starbench

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nslua/nslua/internal/nsexec"
	"github.com/nslua/nslua/internal/nsfs"
	"github.com/nslua/nslua/internal/sys"
	"github.com/vishvananda/netlink"
)

// Check verifies that the star of n leaves named after prefix exists and
// has the shape both baselines build, whoever built it: hub bridges up with
// br0 holding HubAddr, every port a veth on its bridge and up, every leaf
// with lo and eth0 up and eth0 holding LeafAddr. It reports the first
// difference.
func Check(prefix string, n int) error {
	l, err := newLayout(prefix, n, PortsPerBridge)
	if err != nil {
		return err
	}
	return check(l)
}

func check(l layout) error {
	if err := checkHub(l); err != nil {
		return err
	}
	for i := 0; i < l.n; i++ {
		if err := checkLeaf(l, i); err != nil {
			return err
		}
	}
	return nil
}

// linksIn dumps the links of the namespace pinned as name, by name. The
// dump runs on a throw-away thread inside it (nsfs.DoPath), where the
// netlink package's own sockets open.
func linksIn(name string) (map[string]netlink.Link, error) {
	byName := map[string]netlink.Link{}
	err := nsfs.DoPath(nsfs.PinPath(name), func() error {
		links, err := sys.Dump("list links", "in "+name, netlink.LinkList)
		if err != nil {
			return err
		}
		for _, link := range links {
			byName[link.Attrs().Name] = link
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("namespace %s: %w", name, err)
	}
	return byName, nil
}

// v4AddrsIn lists the IPv4 addresses of link in namespace name.
func v4AddrsIn(name string, link netlink.Link) ([]netlink.Addr, error) {
	var addrs []netlink.Addr
	err := nsfs.DoPath(nsfs.PinPath(name), func() error {
		var err error
		addrs, err = netlink.AddrList(link, netlink.FAMILY_V4)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s in %s: %w", link.Attrs().Name, name, err)
	}
	return addrs, nil
}

func checkHub(l layout) error {
	hub := l.hub()
	links, err := linksIn(hub)
	if err != nil {
		return err
	}
	if err := wantLink(hub, links, "lo", "device", ""); err != nil {
		return err
	}
	for k := 0; k < l.bridges(); k++ {
		if err := checkBridge(l, links, k); err != nil {
			return err
		}
	}
	for i := 0; i < l.n; i++ {
		if err := wantPort(hub, links, PortName(i), l.bridgeOf(i)); err != nil {
			return err
		}
	}
	return wantAddr(hub, links[BridgeName(0)], HubAddr())
}

func checkBridge(l layout, links map[string]netlink.Link, k int) error {
	hub := l.hub()
	if err := wantLink(hub, links, BridgeName(k), "bridge", ""); err != nil {
		return err
	}
	if k == 0 {
		return nil
	}
	up, dn := l.joinNames(k)
	if err := wantPort(hub, links, up, BridgeName(k)); err != nil {
		return err
	}
	return wantPort(hub, links, dn, BridgeName(0))
}

func wantPort(ns string, links map[string]netlink.Link, name, bridge string) error {
	return wantLink(ns, links, name, "veth", bridge)
}

// wantLink checks that links holds name, of type kind, up, and a port of
// master (none if master is "").
func wantLink(ns string, links map[string]netlink.Link, name, kind, master string) error {
	link, ok := links[name]
	if !ok {
		return fmt.Errorf("%s has no link %s", ns, name)
	}
	a := link.Attrs()
	if link.Type() != kind {
		return fmt.Errorf("%s in %s is a %s, want a %s", name, ns, link.Type(), kind)
	}
	if a.Flags&net.FlagUp == 0 {
		return fmt.Errorf("%s in %s is down", name, ns)
	}
	if master == "" {
		if a.MasterIndex != 0 {
			return fmt.Errorf("%s in %s has a master (ifindex %d), want none", name, ns, a.MasterIndex)
		}
		return nil
	}
	br, ok := links[master]
	if !ok || a.MasterIndex != br.Attrs().Index {
		return fmt.Errorf("%s in %s has master ifindex %d, want %s", name, ns, a.MasterIndex, master)
	}
	return nil
}

func wantAddr(ns string, link netlink.Link, want netip.Prefix) error {
	addrs, err := v4AddrsIn(ns, link)
	if err != nil {
		return err
	}
	var have []string
	for _, a := range addrs {
		have = append(have, a.IPNet.String())
	}
	if !slices.Contains(have, want.String()) {
		return fmt.Errorf("%s in %s has IPv4 addresses %v, want %s", link.Attrs().Name, ns, have, want)
	}
	return nil
}

func checkLeaf(l layout, i int) error {
	leaf := l.leaf(i)
	links, err := linksIn(leaf)
	if err != nil {
		return err
	}
	if err := wantLink(leaf, links, "lo", "device", ""); err != nil {
		return err
	}
	if err := wantLink(leaf, links, LeafIfName, "veth", ""); err != nil {
		return err
	}
	return wantAddr(leaf, links[LeafIfName], LeafAddr(i))
}

// Ping sends one echo request from leaf i of the star named after prefix to
// the hub's address, with `ip netns exec LEAF ping`, and fails if no answer
// comes. A fresh link can drop the first packets while the kernel activates
// its queue, so it tries three times, one second each.
func Ping(prefix string, i int) error {
	leaf, hub := LeafName(prefix, i), HubAddr().Addr().String()
	var out []byte
	var err error
	for try := 0; try < 3; try++ {
		cmd := exec.Command("ip", "netns", "exec", leaf, "ping", "-n", "-c1", "-W1", hub)
		if out, err = cmd.CombinedOutput(); err == nil {
			return nil
		}
	}
	return fmt.Errorf("ping %s from %s: %w: %s", hub, leaf, err, tail(string(out), 500))
}

// Leftovers lists what a star named after prefix can leave on the host:
// pins in /run/netns and entries in /etc/netns whose names start with it.
// The baselines create no /etc/netns entry; they are listed so the same
// check holds for a builder that does.
func Leftovers(prefix string) ([]string, error) {
	if prefix == "" {
		return nil, errors.New("leftovers: prefix is empty, it would match everything")
	}
	names, err := nsfs.List()
	if err != nil {
		return nil, err
	}
	var left []string
	for _, name := range names {
		if strings.HasPrefix(name, prefix) {
			left = append(left, nsfs.PinPath(name))
		}
	}
	etc, err := filepath.Glob(filepath.Join(nsexec.EtcRoot, globQuote(prefix)+"*"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", nsexec.EtcRoot, err)
	}
	return append(left, etc...), nil
}

// Cleanup removes whatever Leftovers finds: unpins namespaces, removes
// /etc/netns entries. Give it a prefix no one else uses: it removes every
// name that starts with it.
func Cleanup(prefix string) error {
	left, err := Leftovers(prefix)
	if err != nil {
		return err
	}
	var errs []error
	for _, path := range left {
		if strings.HasPrefix(path, nsfs.RunDir+"/") {
			errs = append(errs, nsfs.Unpin(filepath.Base(path)))
		} else {
			errs = append(errs, os.RemoveAll(path))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clean up star %s: %w", prefix, err)
	}
	return nil
}

// globQuote escapes the characters filepath.Match treats specially, so a
// prefix matches only itself.
func globQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

package lab

import (
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// LinkOptions are the options every link kind but veth and bridge takes.
type LinkOptions struct {
	Addr []string
	MTU  int
	MAC  string
	Down bool   // leave the link down (the default is up)
	In   *Netns // create the link in this namespace (parent links stay where they are)
}

// kindModule is the kernel module each kind needs: named when the kernel
// refuses the kind, since "operation not supported" says nothing useful.
var kindModule = map[string]string{
	"macvlan": "macvlan", "vlan": "8021q", "vxlan": "vxlan", "tuntap": "tun",
	"dummy": "dummy", "vrf": "vrf", "gre": "ip_gre", "gretap": "ip_gre",
	"wireguard": "wireguard",
}

func checkLinkOptions(name string, o LinkOptions) error {
	if err := ValidateIfName(name); err != nil {
		return err
	}
	if o.MTU != 0 && (o.MTU < 68 || o.MTU > 65535) {
		return fmt.Errorf("mtu %d is out of range (68..65535)", o.MTU)
	}
	for _, cidr := range o.Addr {
		if _, err := ParseCIDR(cidr); err != nil {
			return fmt.Errorf("addr: %w", err)
		}
	}
	if o.MAC != "" {
		if _, err := parseMAC(o.MAC); err != nil {
			return err
		}
	}
	return nil
}

// addLink creates spec in n (or in o.In, in one request), journaled before
// it exists, re-read, then given its addresses and set up; on any failure
// after the creation the half-made link is deleted again.
func (n *Netns) addLink(kind string, spec netlink.Link, o LinkOptions) (*Link, error) {
	la := spec.Attrs()
	if err := checkLinkOptions(la.Name, o); err != nil {
		return nil, err
	}
	h, err := n.handle()
	if err != nil {
		return nil, err
	}
	dst := n
	if o.In != nil && o.In != n {
		dst = o.In
		fd, err := dst.Fd()
		if err != nil {
			return nil, err
		}
		la.Namespace = netlink.NsFd(fd)
	}
	dh, err := dst.handle()
	if err != nil {
		return nil, err
	}
	la.MTU = o.MTU
	if o.MAC != "" {
		la.HardwareAddr, _ = parseMAC(o.MAC)
	}
	e, err := dst.journalLink(la.Name)
	if err != nil {
		return nil, err
	}
	if err := h.LinkAdd(spec); err != nil {
		dst.linkDone(e, 0, err)
		return nil, dst.kindErr(kind, la.Name, err)
	}
	l, err := dh.LinkByName(la.Name)
	if err != nil {
		dst.linkDone(e, 0, err)
		return nil, fmt.Errorf("%s %q: not found in %s after creating it: %w", kind, la.Name, dst.Name, err)
	}
	k := &Link{NS: dst, Name: la.Name, Index: l.Attrs().Index, Kind: l.Type()}
	err = k.finish(o)
	dst.linkDone(e, k.Index, err)
	if err != nil {
		dh.LinkDel(l) // nothing half-made
		return nil, err
	}
	return k, nil
}

// finish gives a new link its addresses and sets it up.
func (k *Link) finish(o LinkOptions) error {
	for _, cidr := range o.Addr {
		if err := k.AddAddr(cidr); err != nil {
			return err
		}
	}
	if o.Down {
		return nil
	}
	return k.SetUp(true)
}

// kindErr explains a refused creation: a missing module, a taken name.
func (n *Netns) kindErr(kind, name string, err error) error {
	if mod, ok := kindModule[kind]; ok && errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("%s %q: the kernel has no %s module", kind, name, mod)
	}
	return n.linkErr(kind, name, err)
}

// parentIn finds the lower link of a macvlan, VLAN or VXLAN in n.
func (n *Netns) parentIn(kind, name string, parent *Link) (*Link, error) {
	if parent == nil {
		return nil, fmt.Errorf("%s %q: a parent link is required", kind, name)
	}
	if parent.NS != n {
		return nil, fmt.Errorf("%s %q: parent %s is in %s, not in %s (create the %s where its parent is; opts.netns puts it elsewhere)", kind, name, parent.Name, parent.NS.Name, n.Name, kind)
	}
	if _, err := parent.Attrs(); err != nil {
		return nil, fmt.Errorf("%s %q: %w", kind, name, err)
	}
	return parent, nil
}

func parseIP(what, s string) (net.IP, error) {
	if s == "" {
		return nil, nil
	}
	ip := net.ParseIP(s)
	if ip == nil {
		return nil, fmt.Errorf("%s %q is not an IP address", what, s)
	}
	if v4 := ip.To4(); v4 != nil {
		return v4, nil
	}
	return ip, nil
}

func newAttrs(name string) netlink.LinkAttrs {
	la := netlink.NewLinkAttrs()
	la.Name = name
	return la
}

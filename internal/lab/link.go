package lab

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsfs"
)

// Link is a network interface in a namespace.
type Link struct {
	NS    *Netns
	Name  string
	Index int
	Kind  string
}

func (k *Link) String() string {
	return fmt.Sprintf("Link(%s in %s, index %d, %s)", k.Name, k.NS.Name, k.Index, k.Kind)
}

// ValidateIfName applies the kernel's rules for interface names.
func ValidateIfName(name string) error {
	switch {
	case name == "":
		return errors.New("interface name is empty")
	case len(name) > 15:
		return fmt.Errorf("interface name %q is %d bytes, the limit is 15", name, len(name))
	case name == "." || name == "..":
		return fmt.Errorf("interface name %q is reserved", name)
	}
	for _, r := range name {
		if r == '/' || r == ':' || unicode.IsSpace(r) || r == 0 {
			return fmt.Errorf("interface name %q contains %q", name, r)
		}
	}
	// The kernel reads "%d" as a template ("eth%d" becomes eth0): the link
	// would get a name other than the one asked for.
	if strings.Contains(name, "%") {
		return fmt.Errorf("interface name %q contains '%%' (the kernel would take it as a name template)", name)
	}
	return nil
}

// ParseCIDR accepts "10.0.0.1/24" and "fd00::1/64".
func ParseCIDR(s string) (*net.IPNet, error) {
	ip, ipnet, err := net.ParseCIDR(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not an address with a prefix length (e.g. 10.0.0.1/24)", s)
	}
	ipnet.IP = ip
	if v4 := ip.To4(); v4 != nil {
		ipnet.IP = v4
	}
	return ipnet, nil
}

func wrapLink(n *Netns, l netlink.Link) *Link {
	return &Link{NS: n, Name: l.Attrs().Name, Index: l.Attrs().Index, Kind: l.Type()}
}

// journalLink records a link that will live in a namespace the lab did not
// create (there it would outlive the lab unless removed).
func (n *Netns) journalLink(name string) (*journal.Entry, error) {
	if n.owned {
		return nil, nil
	}
	return n.journalLinkAlways(name)
}

// journalLinkAlways records a link wherever it lives.
func (n *Netns) journalLinkAlways(name string) (*journal.Entry, error) {
	nsPath := n.Path
	if n.host {
		nsPath = ""
	}
	return n.lab.j.Add(journal.Entry{Kind: journal.KindLink, Name: name, NsPath: nsPath, NsIno: n.Inode})
}

func (n *Netns) linkDone(e *journal.Entry, index int, err error) {
	if e == nil {
		return
	}
	if err != nil {
		n.lab.j.Gone(e)
		return
	}
	e.Index = index
	n.lab.j.Done(e)
}

// taken reports, for an error message, whether a name is in use.
func (n *Netns) taken(name string) bool {
	h, err := n.handle()
	if err != nil {
		return false
	}
	_, err = h.LinkByName(name)
	return err == nil
}

func (n *Netns) linkErr(op, name string, err error) error {
	if errors.Is(err, unix.EEXIST) && n.taken(name) {
		return fmt.Errorf("%s %s: a link named %s already exists in %s", op, name, name, n.Name)
	}
	return fmt.Errorf("%s %s in %s: %w", op, name, n.Name, err)
}

// VethOptions are veth's options.
type VethOptions struct {
	Addr, PeerAddr []string
	MTU            int
	MAC, PeerMAC   string
}

// Veth creates a veth pair, one end in n and the other in peer, both up:
// `ip link add NAME type veth peer name PEER netns PEERNS`. The peer is made
// in its namespace directly, never moved.
func (n *Netns) Veth(name string, peer *Netns, peerName string, opts VethOptions) (*Link, *Link, error) {
	if err := vethArgs(name, peerName, opts); err != nil {
		return nil, nil, err
	}
	if n == peer && name == peerName {
		return nil, nil, fmt.Errorf("veth %s: both ends have the same name in %s", name, n.Name)
	}
	h, err := n.handle()
	if err != nil {
		return nil, nil, err
	}
	ph, err := peer.handle()
	if err != nil {
		return nil, nil, err
	}
	veth, err := vethSpec(name, peerName, opts)
	if err != nil {
		return nil, nil, err
	}
	if peer != n {
		veth.PeerNamespace = netlink.NsFd(peer.fd)
	}
	entry, jerr := n.vethJournal(name, peer, peerName)
	if jerr != nil {
		return nil, nil, jerr
	}
	if err := h.LinkAdd(veth); err != nil {
		n.linkDone(entry.e, 0, err)
		if peer.taken(peerName) {
			return nil, nil, fmt.Errorf("veth %s: a link named %s already exists in %s", name, peerName, peer.Name)
		}
		return nil, nil, n.linkErr("veth", name, err)
	}
	a, b, err := n.finishVeth(h, ph, veth, peer, peerName, opts)
	idx := veth.Attrs().Index
	if entry.peer && b != nil {
		idx = b.Index
	}
	entry.ns.linkDone(entry.e, idx, err)
	if err != nil {
		h.LinkDel(veth) // nothing half-made: the pair goes as one
		return nil, nil, err
	}
	return a, b, nil
}

// linkEntry is the journal entry of one end of a veth; peer says which
// end (n and peer may be one namespace, so ns alone cannot tell).
type linkEntry struct {
	ns   *Netns
	e    *journal.Entry
	peer bool
}

// vethJournal journals the end that would outlive the lab, if any.
// Deleting one end deletes the pair, so one entry is enough.
func (n *Netns) vethJournal(name string, peer *Netns, peerName string) (linkEntry, error) {
	if !n.owned || n.host {
		e, err := n.journalLink(name)
		return linkEntry{n, e, false}, err
	}
	if !peer.owned || peer.host {
		e, err := peer.journalLink(peerName)
		return linkEntry{peer, e, true}, err
	}
	return linkEntry{n, nil, false}, nil
}

func vethArgs(name, peerName string, opts VethOptions) error {
	if err := ValidateIfName(name); err != nil {
		return err
	}
	if err := ValidateIfName(peerName); err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	if opts.MTU != 0 && (opts.MTU < 68 || opts.MTU > 65535) {
		return fmt.Errorf("mtu %d is out of range (68..65535)", opts.MTU)
	}
	for _, list := range []struct {
		opt   string
		cidrs []string
	}{{"addr", opts.Addr}, {"peer_addr", opts.PeerAddr}} {
		for _, cidr := range list.cidrs {
			if _, err := ParseCIDR(cidr); err != nil {
				return fmt.Errorf("%s: %w", list.opt, err)
			}
		}
	}
	return nil
}

func vethSpec(name, peerName string, opts VethOptions) (*netlink.Veth, error) {
	la := netlink.NewLinkAttrs()
	la.Name, la.MTU, la.Flags = name, opts.MTU, net.FlagUp
	veth := &netlink.Veth{LinkAttrs: la, PeerName: peerName}
	if opts.MTU > 0 {
		veth.PeerMTU = uint32(opts.MTU)
	}
	var err error
	if opts.MAC != "" {
		if veth.HardwareAddr, err = parseMAC(opts.MAC); err != nil {
			return nil, err
		}
	}
	if opts.PeerMAC != "" {
		if veth.PeerHardwareAddr, err = parseMAC(opts.PeerMAC); err != nil {
			return nil, err
		}
	}
	return veth, nil
}

func parseMAC(s string) (net.HardwareAddr, error) {
	mac, err := net.ParseMAC(s)
	if err != nil || len(mac) != 6 {
		return nil, fmt.Errorf("%q is not a MAC address (e.g. 02:00:00:00:00:01)", s)
	}
	return mac, nil
}

func (n *Netns) finishVeth(h, ph *netlink.Handle, veth *netlink.Veth, peer *Netns, peerName string, opts VethOptions) (*Link, *Link, error) {
	pl, err := ph.LinkByName(peerName)
	if err != nil {
		return nil, nil, fmt.Errorf("veth %s: find peer %s in %s: %w", veth.Name, peerName, peer.Name, err)
	}
	if err := ph.LinkSetUp(pl); err != nil {
		return nil, nil, fmt.Errorf("veth %s: set %s up: %w", veth.Name, peerName, err)
	}
	a := &Link{NS: n, Name: veth.Name, Index: veth.Index, Kind: "veth"}
	b := &Link{NS: peer, Name: peerName, Index: pl.Attrs().Index, Kind: "veth"}
	for _, cidr := range opts.Addr {
		if err := a.AddAddr(cidr); err != nil {
			return nil, nil, err
		}
	}
	for _, cidr := range opts.PeerAddr {
		if err := b.AddAddr(cidr); err != nil {
			return nil, nil, err
		}
	}
	return a, b, nil
}

// BridgeOptions are bridge's options.
type BridgeOptions struct {
	STP          *bool
	GroupFwdMask *uint16
}

// groupFwdRestricted are the link-local groups a bridge never forwards
// (STP, MAC pause, LACP): the kernel refuses them with a bare EINVAL.
const groupFwdRestricted = 0x7

func checkGroupFwdMask(mask uint16) error {
	if mask&groupFwdRestricted != 0 {
		return fmt.Errorf("group_fwd_mask %#x: bits 0x1, 0x2 and 0x4 (STP, pause, LACP) cannot be forwarded; 0x8 forwards EAPOL", mask)
	}
	return nil
}

// Bridge creates a bridge, up: `ip link add NAME up type bridge`.
func (n *Netns) Bridge(name string, opts BridgeOptions) (*Link, error) {
	if err := ValidateIfName(name); err != nil {
		return nil, err
	}
	if opts.GroupFwdMask != nil {
		if err := checkGroupFwdMask(*opts.GroupFwdMask); err != nil {
			return nil, err
		}
	}
	h, err := n.handle()
	if err != nil {
		return nil, err
	}
	la := netlink.NewLinkAttrs()
	la.Name, la.Flags = name, net.FlagUp
	br := &netlink.Bridge{LinkAttrs: la, GroupFwdMask: opts.GroupFwdMask}
	e, err := n.journalLink(name)
	if err != nil {
		return nil, err
	}
	if err := h.LinkAdd(br); err != nil {
		n.linkDone(e, 0, err)
		return nil, n.linkErr("bridge", name, err)
	}
	link := &Link{NS: n, Name: name, Index: br.Index, Kind: "bridge"}
	if opts.STP != nil {
		// netlink.Bridge has no STP field: a second request
		if err := link.SetSTP(*opts.STP); err != nil {
			h.LinkDel(br) // nothing half-made
			n.linkDone(e, 0, err)
			return nil, err
		}
	}
	n.linkDone(e, br.Index, nil)
	return link, nil
}

// SetSTP turns the spanning tree protocol of a bridge on or off:
// `ip link set NAME type bridge stp_state 1`.
func (k *Link) SetSTP(on bool) error {
	var v uint32
	if on {
		v = 1
	}
	return k.setBridgeAttr(unix.IFLA_BR_STP_STATE, nl.Uint32Attr(v))
}

// SetGroupFwdMask sets which link-local groups a bridge forwards (8 lets
// EAPOL through): `ip link set NAME type bridge group_fwd_mask MASK`.
func (k *Link) SetGroupFwdMask(mask uint16) error {
	if err := checkGroupFwdMask(mask); err != nil {
		return err
	}
	return k.setBridgeAttr(unix.IFLA_BR_GROUP_FWD_MASK, nl.Uint16Attr(mask))
}

func (k *Link) setBridgeAttr(attr int, val []byte) error {
	if k.Kind != "bridge" {
		return fmt.Errorf("%s is a %s, not a bridge", k.Name, k.Kind)
	}
	return k.rawRequest(unix.RTM_NEWLINK, unix.AF_UNSPEC, func(req *nl.NetlinkRequest) {
		info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
		info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("bridge"))
		data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
		data.AddRtAttr(attr, val)
		req.AddData(info)
	})
}

// rawRequest sends a link request the netlink library has no call for,
// from a thread inside the link's namespace.
func (k *Link) rawRequest(msgType, family int, fill func(*nl.NetlinkRequest)) error {
	fd, err := k.NS.Fd()
	if err != nil {
		return err
	}
	return nsfs.Do(fd, func() error {
		req := nl.NewNetlinkRequest(msgType, unix.NLM_F_ACK)
		msg := nl.NewIfInfomsg(family)
		msg.Index = int32(k.Index)
		req.AddData(msg)
		fill(req)
		_, err := req.Execute(unix.NETLINK_ROUTE, 0)
		if err != nil {
			return fmt.Errorf("%s in %s: %w", k.Name, k.NS.Name, err)
		}
		return nil
	})
}

// PortOptions are bridge-port flags; nil leaves a flag as it is.
type PortOptions struct {
	Learning, Locked, Flood, Isolated *bool
}

// SetPort sets bridge-port flags of an enslaved link:
// `bridge link set dev NAME learning off locked on`.
func (k *Link) SetPort(opts PortOptions) error {
	h, err := k.NS.handle()
	if err != nil {
		return err
	}
	l := k.netlinkLink()
	set := []struct {
		v  *bool
		fn func(netlink.Link, bool) error
	}{{opts.Learning, h.LinkSetLearning}, {opts.Flood, h.LinkSetFlood}, {opts.Isolated, h.LinkSetIsolated}}
	for _, s := range set {
		if s.v != nil {
			if err := s.fn(l, *s.v); err != nil {
				return fmt.Errorf("port %s in %s: %w (is it enslaved to a bridge?)", k.Name, k.NS.Name, err)
			}
		}
	}
	if opts.Locked != nil {
		var b byte
		if *opts.Locked {
			b = 1
		}
		return k.rawRequest(unix.RTM_SETLINK, unix.AF_BRIDGE, func(req *nl.NetlinkRequest) {
			pi := nl.NewRtAttr(unix.IFLA_PROTINFO|unix.NLA_F_NESTED, nil)
			pi.AddRtAttr(unix.IFLA_BRPORT_LOCKED, []byte{b})
			req.AddData(pi)
		})
	}
	return nil
}

func (k *Link) netlinkLink() netlink.Link {
	return &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: k.Index, Name: k.Name}}
}

// Link finds an existing interface by name.
func (n *Netns) Link(name string) (*Link, error) {
	if err := ValidateIfName(name); err != nil {
		return nil, err
	}
	h, err := n.handle()
	if err != nil {
		return nil, err
	}
	l, err := h.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("no link %s in %s", name, n.Name)
	}
	return wrapLink(n, l), nil
}

// Links lists the namespace's interfaces.
func (n *Netns) Links() ([]*Link, error) {
	h, err := n.handle()
	if err != nil {
		return nil, err
	}
	var ls []netlink.Link
	for try := 0; try < 5; try++ {
		if ls, err = h.LinkList(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list links in %s: %w", n.Name, err)
	}
	out := make([]*Link, len(ls))
	for i, l := range ls {
		out[i] = wrapLink(n, l)
	}
	return out, nil
}

func (k *Link) handle() (*netlink.Handle, error) { return k.NS.handle() }

// SetUp: `ip link set NAME up` (or down).
func (k *Link) SetUp(up bool) error {
	h, err := k.handle()
	if err != nil {
		return err
	}
	if up {
		err = h.LinkSetUp(k.netlinkLink())
	} else {
		err = h.LinkSetDown(k.netlinkLink())
	}
	if err != nil {
		return fmt.Errorf("set %s in %s %s: %w", k.Name, k.NS.Name, map[bool]string{true: "up", false: "down"}[up], err)
	}
	return nil
}

// AddrOptions are Link:addr's options.
type AddrOptions struct {
	// DAD runs IPv6 duplicate address detection and waits for its
	// outcome, instead of making the address usable at once.
	DAD bool
}

// AddAddr: `ip addr add CIDR dev NAME`. IPv6 addresses skip duplicate
// address detection (nodad), so they are usable at once.
func (k *Link) AddAddr(cidr string) error { return k.AddAddrWith(cidr, AddrOptions{}) }

// AddAddrWith is AddAddr with options.
func (k *Link) AddAddrWith(cidr string, opts AddrOptions) error {
	ipnet, err := ParseCIDR(cidr)
	if err != nil {
		return err
	}
	h, err := k.handle()
	if err != nil {
		return err
	}
	v6 := ipnet.IP.To4() == nil
	addr := &netlink.Addr{IPNet: ipnet}
	if v6 && !opts.DAD {
		addr.Flags = unix.IFA_F_NODAD
	}
	if err := h.AddrAdd(k.netlinkLink(), addr); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("address %s is already on %s in %s", cidr, k.Name, k.NS.Name)
		}
		return fmt.Errorf("add address %s to %s in %s: %w", cidr, k.Name, k.NS.Name, err)
	}
	if v6 && opts.DAD {
		return k.waitDAD(h, addr, cidr)
	}
	return nil
}

// dadTimeout bounds waitDAD: detection takes about a second (one probe,
// RetransTimer 1 s) after a random delay of up to a second.
const dadTimeout = 10 * time.Second

// waitDAD waits until the kernel has decided on a new IPv6 address; an
// address that failed, or whose detection never ended, is removed again.
func (k *Link) waitDAD(h *netlink.Handle, addr *netlink.Addr, cidr string) error {
	deadline := time.Now().Add(dadTimeout)
	for {
		as, err := h.AddrList(k.netlinkLink(), netlink.FAMILY_V6)
		if err != nil {
			return fmt.Errorf("addresses of %s in %s: %w", k.Name, k.NS.Name, err)
		}
		flags, found := 0, false
		for _, a := range as {
			if a.IP.Equal(addr.IP) {
				flags, found = a.Flags, true
			}
		}
		switch {
		case !found:
			return fmt.Errorf("address %s vanished from %s in %s during duplicate address detection", cidr, k.Name, k.NS.Name)
		case flags&unix.IFA_F_DADFAILED != 0:
			h.AddrDel(k.netlinkLink(), addr)
			return fmt.Errorf("address %s on %s in %s: duplicate address detection failed: another node on the link has it", cidr, k.Name, k.NS.Name)
		case flags&unix.IFA_F_TENTATIVE == 0:
			return nil
		case time.Now().After(deadline):
			h.AddrDel(k.netlinkLink(), addr)
			return fmt.Errorf("address %s on %s in %s: duplicate address detection did not end within %v (is the link up, and its peer?)", cidr, k.Name, k.NS.Name, dadTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Addrs lists the link's addresses as CIDR strings (IPv6 link-local ones
// included).
func (k *Link) Addrs() ([]string, error) {
	h, err := k.handle()
	if err != nil {
		return nil, err
	}
	as, err := h.AddrList(k.netlinkLink(), netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("addresses of %s in %s: %w", k.Name, k.NS.Name, err)
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.IPNet.String()
	}
	return out, nil
}

// Attrs re-reads the link from the kernel.
func (k *Link) Attrs() (*netlink.LinkAttrs, error) {
	h, err := k.handle()
	if err != nil {
		return nil, err
	}
	l, err := h.LinkByIndex(k.Index)
	if err != nil {
		return nil, fmt.Errorf("link %s in %s is gone", k.Name, k.NS.Name)
	}
	return l.Attrs(), nil
}

// SetMTU: `ip link set NAME mtu N`.
func (k *Link) SetMTU(mtu int) error {
	if mtu < 68 || mtu > 65535 {
		return fmt.Errorf("mtu %d is out of range (68..65535)", mtu)
	}
	h, err := k.handle()
	if err != nil {
		return err
	}
	if err := h.LinkSetMTU(k.netlinkLink(), mtu); err != nil {
		return fmt.Errorf("set mtu of %s in %s: %w", k.Name, k.NS.Name, err)
	}
	return nil
}

// SetMAC: `ip link set NAME address MAC`.
func (k *Link) SetMAC(s string) error {
	mac, err := parseMAC(s)
	if err != nil {
		return err
	}
	h, err := k.handle()
	if err != nil {
		return err
	}
	if err := h.LinkSetHardwareAddr(k.netlinkLink(), mac); err != nil {
		return fmt.Errorf("set mac of %s in %s: %w", k.Name, k.NS.Name, err)
	}
	return nil
}

// SetMaster enslaves the link to a bridge (`ip link set NAME master BR`),
// or releases it when br is nil (`nomaster`).
func (k *Link) SetMaster(br *Link) error {
	h, err := k.handle()
	if err != nil {
		return err
	}
	if br == nil {
		err = h.LinkSetNoMaster(k.netlinkLink())
	} else {
		if br.NS != k.NS {
			return fmt.Errorf("bridge %s is in %s, link %s in %s: a master must be in the same namespace", br.Name, br.NS.Name, k.Name, k.NS.Name)
		}
		err = h.LinkSetMasterByIndex(k.netlinkLink(), br.Index)
	}
	if err != nil {
		return fmt.Errorf("set master of %s in %s: %w", k.Name, k.NS.Name, err)
	}
	return nil
}

// Move moves the link to another namespace, optionally renaming it:
// `ip link set NAME netns NS name NEW`, one request, so that the new name
// only has to be free at the destination. Its addresses do not follow.
func (k *Link) Move(to *Netns, newName string) error {
	if newName == "" {
		newName = k.Name
	}
	if err := ValidateIfName(newName); err != nil {
		return err
	}
	if _, err := k.handle(); err != nil {
		return err
	}
	th, err := to.handle()
	if err != nil {
		return err
	}
	if to == k.NS {
		return k.rename(newName)
	}
	if to.taken(newName) {
		return fmt.Errorf("move %s to %s: a link named %s already exists there", k.Name, to.Name, newName)
	}
	// A link the journal tracks stays tracked where it goes: teardown then
	// deletes it (and a veth's peer with it) before the namespaces go,
	// rather than leaving the peer to the kernel's asynchronous cleanup.
	old := k.NS.linkEntry(k.Name, k.Index)
	var e *journal.Entry
	if old != nil {
		e, err = to.journalLinkAlways(newName)
	} else {
		e, err = to.journalLink(newName)
	}
	if err != nil {
		return err
	}
	if err := k.moveRequest(to, newName); err != nil {
		to.linkDone(e, 0, err)
		return err
	}
	l, err := th.LinkByName(newName)
	if err != nil {
		to.linkDone(e, 0, err)
		return fmt.Errorf("find %s in %s after the move: %w", newName, to.Name, err)
	}
	to.linkDone(e, l.Attrs().Index, nil)
	if old != nil {
		k.NS.lab.j.Gone(old)
	}
	k.NS, k.Name, k.Index = to, newName, l.Attrs().Index
	return nil
}

func (k *Link) moveRequest(to *Netns, newName string) error {
	toFd, err := to.Fd()
	if err != nil {
		return err
	}
	err = k.rawRequest(unix.RTM_NEWLINK, unix.AF_UNSPEC, func(req *nl.NetlinkRequest) {
		req.AddData(nl.NewRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(toFd))))
		if newName != k.Name {
			req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(newName)))
		}
	})
	if err != nil {
		return fmt.Errorf("move %s to %s as %s: %w", k.Name, to.Name, newName, err)
	}
	return nil
}

// rename: `ip link set NAME name NEW`, within the link's namespace.
func (k *Link) rename(newName string) error {
	if newName == k.Name {
		return nil
	}
	h, err := k.handle()
	if err != nil {
		return err
	}
	if k.NS.taken(newName) {
		return fmt.Errorf("rename %s: a link named %s already exists in %s", k.Name, newName, k.NS.Name)
	}
	// teardown finds a journaled link by name: journal the new one first
	old := k.NS.linkEntry(k.Name, k.Index)
	var e *journal.Entry
	if old != nil {
		if e, err = k.NS.journalLinkAlways(newName); err != nil {
			return err
		}
	}
	err = h.LinkSetName(k.netlinkLink(), newName)
	k.NS.linkDone(e, k.Index, err)
	if err != nil {
		return fmt.Errorf("rename %s to %s in %s: %w", k.Name, newName, k.NS.Name, err)
	}
	if old != nil {
		k.NS.lab.j.Gone(old)
	}
	k.Name = newName
	return nil
}

// Delete: `ip link del NAME`.
func (k *Link) Delete() error {
	h, err := k.handle()
	if err != nil {
		return err
	}
	if err := h.LinkDel(k.netlinkLink()); err != nil {
		return fmt.Errorf("delete %s in %s: %w", k.Name, k.NS.Name, err)
	}
	k.NS.forgetLink(k.Name, k.Index)
	return nil
}

// forgetLink marks a journaled link removed by the script itself.
func (n *Netns) forgetLink(name string, index int) {
	if e := n.linkEntry(name, index); e != nil {
		n.lab.j.Gone(e)
	}
}

// linkEntry is the live journal entry of a link in n, if any.
func (n *Netns) linkEntry(name string, index int) *journal.Entry {
	for _, e := range n.lab.j.Live() {
		if e.Kind == journal.KindLink && e.Done && e.NsIno == n.Inode && e.Name == name && e.Index == index {
			return e
		}
	}
	return nil
}

// IsNotFound reports a missing link, for callers that probe.
func IsNotFound(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "no link ")
}

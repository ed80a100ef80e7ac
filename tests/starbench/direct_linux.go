package starbench

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/nslua/nslua/internal/nsfs"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// loopbackIndex is LOOPBACK_IFINDEX: the kernel gives lo index 1 in every
// network namespace, so bringing it up needs no lookup.
const loopbackIndex = 1

// Star is a star built by DirectStar. It keeps, for every namespace, the
// netlink handle opened inside it and an fd on it, as a long-lived engine
// would; Teardown releases them.
type Star struct {
	l      layout
	hub    *member
	leaves []*member
	// hubRaw is a second rtnetlink socket in the hub, for the requests
	// netlink.Handle cannot make in one message (see addVeth).
	hubRaw map[int]*nl.SocketHandle
	// bridges holds the ifindex of br0, br1, ... in the hub.
	bridges []int
}

// member is one namespace of a star.
type member struct {
	name string
	h    *netlink.Handle
	fd   int // the namespace itself, for IFLA_NET_NS_FD
}

// DirectStar builds the star of n leaves named after prefix with the fewest
// netlink requests the kernel needs, from plain Go on one goroutine:
//   - a namespace is made like `ip netns add` (nsfs.Add: unshare on a
//     throw-away locked thread, bind-mounted pin), and its netlink socket
//     and fd are opened on that same thread, so nothing ever switches back;
//   - each veth is one RTM_NEWLINK from the hub with the peer created
//     directly in the leaf (no move), the hub end up and already a bridge
//     port;
//   - in the leaf: lo up (ifindex 1), eth0 looked up, address added, eth0
//     up;
//   - the hub bridges are made down and brought up after the last leaf.
//
// On failure everything made so far is torn down.
func DirectStar(prefix string, n int) (*Star, error) {
	l, err := newLayout(prefix, n, PortsPerBridge)
	if err != nil {
		return nil, err
	}
	return directStar(l)
}

func directStar(l layout) (*Star, error) {
	s := &Star{l: l}
	err := s.build()
	if err != nil {
		if terr := s.Teardown(); terr != nil {
			err = fmt.Errorf("%w (and undoing the partial star: %v)", err, terr)
		}
		return nil, err
	}
	return s, nil
}

func (s *Star) build() error {
	if err := s.buildHub(); err != nil {
		return err
	}
	for k := 0; k < s.l.bridges(); k++ {
		if err := s.addBridge(k); err != nil {
			return err
		}
	}
	for i := 0; i < s.l.n; i++ {
		if err := s.addLeaf(i); err != nil {
			return err
		}
	}
	return s.bridgesUp()
}

// bridgesUp brings the bridges up, last: see addBridge.
func (s *Star) bridgesUp() error {
	for k, idx := range s.bridges {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: BridgeName(k), Index: idx}}
		if err := s.hub.h.LinkSetUp(br); err != nil {
			return fmt.Errorf("set %s up in %s: %w", br.Name, s.hub.name, err)
		}
	}
	return nil
}

// Prefix is the prefix every namespace name of the star starts with.
func (s *Star) Prefix() string { return s.l.prefix }

func (s *Star) buildHub() error {
	var raw *nl.NetlinkSocket
	m, err := addMember(s.l.hub(), func() error {
		var err error
		// With no groups, Subscribe is a plain bound rtnetlink socket in
		// this thread's namespace; nl exports no other way to open one.
		raw, err = nl.Subscribe(unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("open rtnetlink socket in %s: %w", s.l.hub(), err)
		}
		return nil
	})
	if err != nil {
		if raw != nil {
			raw.Close()
		}
		return err
	}
	s.hub = m
	s.hubRaw = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: {Socket: raw}}
	return nil
}

// addMember creates and pins namespace name, opens its netlink handle and
// an fd on it from inside, and brings lo up. extra, if not nil, runs inside
// too, last.
func addMember(name string, extra func() error) (*member, error) {
	m := &member{name: name, fd: -1}
	_, err := nsfs.Add(name, nsfs.AddHooks{Inside: func() error {
		if err := m.openInside(); err != nil {
			return err
		}
		if extra != nil {
			return extra()
		}
		return nil
	}})
	if err != nil {
		m.close()
		return nil, fmt.Errorf("add namespace %s: %w", name, err)
	}
	return m, nil
}

// openInside runs on the thread that created the namespace.
func (m *member) openInside() error {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("open netlink handle in %s: %w", m.name, err)
	}
	m.h = h
	// /proc/thread-self: /proc/self/ns/net is the main thread's namespace.
	fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open namespace fd of %s: %w", m.name, err)
	}
	m.fd = fd
	lo := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: "lo", Index: loopbackIndex}}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up in %s: %w", m.name, err)
	}
	return nil
}

// close releases the handle and fd. The namespace lives on while its pin
// does.
func (m *member) close() error {
	if m.h != nil {
		m.h.Close()
		m.h = nil
	}
	if m.fd >= 0 {
		err := unix.Close(m.fd)
		m.fd = -1
		if err != nil {
			return fmt.Errorf("close namespace fd of %s: %w", m.name, err)
		}
	}
	return nil
}

// addBridge creates hub bridge k, down. br0 gets the hub's address; any other
// bridge is joined to br0 by a veth pair so the star is one segment.
//
// The bridges come up only after the last leaf (bridgesUp): while a bridge
// is up, enslaving a port walks all its ports (br_stp_enable_port ->
// br_port_state_selection, br_manage_promisc), and every new leaf's IPv6
// link-local frames (DAD, MLD, router solicitation) are flooded to every
// port, through bridge-netfilter where br_netfilter is loaded. That made
// the build quadratic; with the bridges down it halves at 1000 leaves
// (README, benchmark notes).
func (s *Star) addBridge(k int) error {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = BridgeName(k)
	br := &netlink.Bridge{LinkAttrs: attrs}
	if err := s.hub.h.LinkAdd(br); err != nil {
		return fmt.Errorf("add bridge %s in %s: %w", attrs.Name, s.hub.name, err)
	}
	if br.Index == 0 {
		return fmt.Errorf("add bridge %s in %s: no ifindex after creation", attrs.Name, s.hub.name)
	}
	s.bridges = append(s.bridges, br.Index)
	if k == 0 {
		return addAddr(s.hub, br, HubAddr())
	}
	return s.joinBridge(k)
}

func (s *Star) joinBridge(k int) error {
	up, dn := s.l.joinNames(k)
	if err := s.addVeth(up, s.bridges[k], dn, -1); err != nil {
		return err
	}
	// The creating message can give the peer neither a master nor IFF_UP.
	link, err := s.hub.h.LinkByName(dn)
	if err != nil {
		return fmt.Errorf("look up %s in %s: %w", dn, s.hub.name, err)
	}
	if err := s.hub.h.LinkSetMasterByIndex(link, s.bridges[0]); err != nil {
		return fmt.Errorf("set %s master %s in %s: %w", dn, BridgeName(0), s.hub.name, err)
	}
	if err := s.hub.h.LinkSetUp(link); err != nil {
		return fmt.Errorf("set %s up in %s: %w", dn, s.hub.name, err)
	}
	return nil
}

func (s *Star) addLeaf(i int) error {
	m, err := addMember(s.l.leaf(i), nil)
	if err != nil {
		return err
	}
	s.leaves = append(s.leaves, m)
	if err := s.addVeth(PortName(i), s.bridges[i/s.l.perBridge], LeafIfName, m.fd); err != nil {
		return err
	}
	eth, err := m.h.LinkByName(LeafIfName)
	if err != nil {
		return fmt.Errorf("look up %s in %s: %w", LeafIfName, m.name, err)
	}
	if err := addAddr(m, eth, LeafAddr(i)); err != nil {
		return err
	}
	if err := m.h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("set %s up in %s: %w", LeafIfName, m.name, err)
	}
	return nil
}

// addVeth creates, in the hub, the veth pair name/peer, name up and a port
// of the bridge whose ifindex is master; the peer is created in the
// namespace open at peerNs, or in the hub if peerNs is -1. Like
// `ip link add NAME up master BR type veth peer name PEER netns NS`.
//
// It is built by hand because netlink.Handle.LinkAdd sends IFLA_MASTER in a
// second request after looking the new link up by name: three requests
// where the kernel needs one. The peer stays down: the kernel refuses to
// open a veth end before its partner is registered (ENOTCONN), so the leaf
// brings its end up itself.
func (s *Star) addVeth(name string, master int, peer string, peerNs int) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	req.Sockets = s.hubRaw
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Flags, msg.Change = unix.IFF_UP, unix.IFF_UP
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	req.AddData(nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(uint32(master))))
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("veth"))
	data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
	peerAttr := data.AddRtAttr(nl.VETH_INFO_PEER, nil)
	nl.NewIfInfomsgChild(peerAttr, unix.AF_UNSPEC)
	peerAttr.AddRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(peer))
	if peerNs >= 0 {
		peerAttr.AddRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(peerNs)))
	}
	req.AddData(info)
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return fmt.Errorf("add veth %s (peer %s) in %s: %w", name, peer, s.hub.name, err)
	}
	return nil
}

func addAddr(m *member, link netlink.Link, p netip.Prefix) error {
	addr := &netlink.Addr{IPNet: ipNet(p)}
	if err := m.h.AddrAdd(link, addr); err != nil {
		return fmt.Errorf("add address %s to %s in %s: %w", p, link.Attrs().Name, m.name, err)
	}
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{
		IP:   net.IP(p.Addr().AsSlice()),
		Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
	}
}

// Teardown closes every handle and fd and unpins every namespace, leaves
// first, then checks that no pin is left. The kernel destroys the
// namespaces, and the veths with them, asynchronously afterwards. Calling
// it again does nothing.
func (s *Star) Teardown() error {
	var errs []error
	for i := len(s.leaves) - 1; i >= 0; i-- {
		errs = append(errs, release(s.leaves[i]))
	}
	s.leaves = nil
	for _, sh := range s.hubRaw {
		sh.Close()
	}
	s.hubRaw = nil
	if s.hub != nil {
		errs = append(errs, release(s.hub))
		s.hub = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tear down star %s: %w", s.l.prefix, err)
	}
	return nil
}

// release closes m and unpins it, and fails if the pin is still there.
func release(m *member) error {
	err := m.close()
	if uerr := nsfs.Unpin(m.name); uerr != nil {
		return errors.Join(err, fmt.Errorf("unpin %s: %w", m.name, uerr))
	}
	if _, serr := os.Lstat(nsfs.PinPath(m.name)); serr == nil {
		err = errors.Join(err, fmt.Errorf("unpin %s: %s is still there", m.name, nsfs.PinPath(m.name)))
	}
	return err
}

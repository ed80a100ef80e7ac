package lab

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"

	"github.com/nslua/nslua/internal/journal"
)

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
			return nil, nil, fmt.Errorf("veth %s: a link named %s %w in %s", name, peerName, ErrExists, peer.Name)
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

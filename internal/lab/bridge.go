package lab

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsfs"
)

// BridgeOptions are bridge's options.
type BridgeOptions struct {
	STP          *bool
	GroupFwdMask *uint16
	// Down creates the bridge down. A big star is built fastest with its
	// bridge down: while it is up, every new port's enabling walks all
	// ports and every leaf's IPv6 link-local chatter is flooded to all of
	// them (README, benchmark notes). The builder brings it up at the end.
	Down bool
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

// Bridge creates a bridge, up unless opts.Down: `ip link add NAME up type bridge`.
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
	la.Name = name
	if !opts.Down {
		la.Flags = net.FlagUp
	}
	br := &netlink.Bridge{LinkAttrs: la, GroupFwdMask: opts.GroupFwdMask}
	e, err := n.journalBridge(name)
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

// journalBridge records a bridge: as a link to remove where the lab did
// not create the namespace, else as one whose forwarding teardown stops
// first (quiesceBridges: it dies with its namespace).
func (n *Netns) journalBridge(name string) (*journal.Entry, error) {
	if !n.owned {
		return n.journalLinkAlways(name)
	}
	return n.lab.j.Add(journal.Entry{Kind: journal.KindBridge, Name: name, NsPath: n.Path, NsIno: n.Inode})
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

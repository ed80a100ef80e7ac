package lab

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

// Vlan creates an 802.1Q (or 802.1ad, protocol "802.1ad") VLAN on parent:
// `ip link add NAME link PARENT type vlan id ID`.
func (n *Netns) Vlan(name string, parent *Link, id int, protocol string, o LinkOptions) (*Link, error) {
	if id < 1 || id > 4094 {
		return nil, fmt.Errorf("vlan %q: id %d is out of range (1..4094)", name, id)
	}
	proto := netlink.VLAN_PROTOCOL_8021Q
	switch protocol {
	case "", "802.1q", "802.1Q":
	case "802.1ad":
		proto = netlink.VLAN_PROTOCOL_8021AD
	default:
		return nil, fmt.Errorf("vlan %q: protocol %q is neither 802.1q nor 802.1ad", name, protocol)
	}
	p, err := n.parentIn("vlan", name, parent)
	if err != nil {
		return nil, err
	}
	la := newAttrs(name)
	la.ParentIndex = p.Index
	return n.addLink("vlan", &netlink.Vlan{LinkAttrs: la, VlanId: id, VlanProtocol: proto}, o)
}

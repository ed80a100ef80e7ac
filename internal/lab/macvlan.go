package lab

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

var macvlanModes = map[string]netlink.MacvlanMode{
	"bridge": netlink.MACVLAN_MODE_BRIDGE, "private": netlink.MACVLAN_MODE_PRIVATE,
	"vepa": netlink.MACVLAN_MODE_VEPA, "passthru": netlink.MACVLAN_MODE_PASSTHRU,
	"source": netlink.MACVLAN_MODE_SOURCE,
}

// Macvlan creates a macvlan on parent, a link of n: `ip link add NAME link
// PARENT type macvlan mode MODE` (mode "" is bridge: macvlans on one parent
// reach each other).
func (n *Netns) Macvlan(name string, parent *Link, mode string, o LinkOptions) (*Link, error) {
	if mode == "" {
		mode = "bridge"
	}
	m, ok := macvlanModes[mode]
	if !ok {
		return nil, fmt.Errorf("macvlan %q: mode %q is not bridge, private, vepa, passthru or source", name, mode)
	}
	p, err := n.parentIn("macvlan", name, parent)
	if err != nil {
		return nil, err
	}
	la := newAttrs(name)
	la.ParentIndex = p.Index
	return n.addLink("macvlan", &netlink.Macvlan{LinkAttrs: la, Mode: m}, o)
}

package lab

import "github.com/vishvananda/netlink"

// Dummy creates a dummy link (a place for addresses, a blackhole for
// packets): `ip link add NAME type dummy`.
func (n *Netns) Dummy(name string, o LinkOptions) (*Link, error) {
	return n.addLink("dummy", &netlink.Dummy{LinkAttrs: newAttrs(name)}, o)
}

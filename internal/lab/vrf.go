package lab

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

// Vrf creates a VRF bound to a routing table: `ip link add NAME type vrf
// table TABLE`. Links join it with SetMaster.
func (n *Netns) Vrf(name string, table int, o LinkOptions) (*Link, error) {
	if table < 1 || table > 1<<32-1 || table == 253 || table == 254 || table == 255 {
		return nil, fmt.Errorf("vrf %q: table %d is not a free table number (1..2^32-1 but 253-255)", name, table)
	}
	return n.addLink("vrf", &netlink.Vrf{LinkAttrs: newAttrs(name), Table: uint32(table)}, o)
}

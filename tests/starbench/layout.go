// Package starbench holds the two baselines that nslua's star-building speed
// is measured against, and the helpers used to measure nslua itself.
//
// A star is one hub namespace holding one or more bridges, and N leaf
// namespaces, each joined to a hub bridge by a veth pair: the hub end "p<i>"
// is a bridge port, the leaf end "eth0" carries the leaf's IPv4 address.
// Every link, lo included, is up. A bridge takes at most 1024 ports, so past
// PortsPerBridge leaves the hub gets more bridges, each joined to br0 by a
// veth pair, and the star stays one layer-2 segment.
//
// The baselines build exactly that star:
//   - ScriptStar: a shell script of `ip` commands, one per operation, the
//     way people build labs by hand;
//   - DirectStar: plain Go making the fewest netlink requests the kernel
//     needs, the limit any tool can approach.
//
// For measuring any builder, nslua included: Check verifies a star's shape,
// Ping its reachability, Leftovers and Cleanup what it leaves on the host;
// PeakRSS, ResetPeakRSS and ExitedMaxRSS give a process's peak memory.
// The benchmarks (go test -bench) time both baselines.
package starbench

import (
	"fmt"
	"net/netip"
)

// PortsPerBridge is how many leaves share one hub bridge. The kernel caps a
// bridge at 1024 ports (BR_MAX_PORTS); a round figure keeps room for the
// link that joins the bridge to br0.
const PortsPerBridge = 1000

// MaxLeaves is the largest star the subnet has addresses for: Subnet minus
// its network, broadcast and hub addresses.
const MaxLeaves = 1<<16 - 3

// Subnet is the one IPv4 subnet of the star. Every star lives in its own
// namespaces, so stars built at the same time do not collide.
var Subnet = netip.MustParsePrefix("10.200.0.0/16")

// HubName is the hub namespace of the star with this prefix.
func HubName(prefix string) string { return prefix + "hub" }

// LeafName is the namespace of leaf i (counting from 0).
func LeafName(prefix string, i int) string { return fmt.Sprintf("%sl%d", prefix, i) }

// PortName is the hub end of leaf i's veth pair.
func PortName(i int) string { return fmt.Sprintf("p%d", i) }

// LeafIfName is the leaf end of every leaf's veth pair.
const LeafIfName = "eth0"

// BridgeName is hub bridge k; br0 carries the hub's address.
func BridgeName(k int) string { return fmt.Sprintf("br%d", k) }

// HubAddr is the address of br0, the first host address of Subnet.
func HubAddr() netip.Prefix { return hostAddr(0) }

// LeafAddr is the address of leaf i's eth0.
func LeafAddr(i int) netip.Prefix { return hostAddr(i + 1) }

// hostAddr is the k-th host address after the hub's base, with the
// subnet's prefix length.
func hostAddr(k int) netip.Prefix {
	a := Subnet.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v += uint32(k) + 1
	b := [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	return netip.PrefixFrom(netip.AddrFrom4(b), Subnet.Bits())
}

// layout is one star's shape. perBridge is a field, not the constant, so
// that a test can make a small star with several bridges.
type layout struct {
	prefix    string
	n         int
	perBridge int
}

func newLayout(prefix string, n, perBridge int) (layout, error) {
	if prefix == "" {
		return layout{}, fmt.Errorf("star prefix is empty: every name must start with one")
	}
	if n < 1 || n > MaxLeaves {
		return layout{}, fmt.Errorf("star of %d leaves: want 1 to %d", n, MaxLeaves)
	}
	if perBridge < 1 || perBridge > 1023 {
		return layout{}, fmt.Errorf("%d ports per bridge: want 1 to 1023", perBridge)
	}
	return layout{prefix: prefix, n: n, perBridge: perBridge}, nil
}

func (l layout) hub() string           { return HubName(l.prefix) }
func (l layout) leaf(i int) string     { return LeafName(l.prefix, i) }
func (l layout) bridges() int          { return (l.n + l.perBridge - 1) / l.perBridge }
func (l layout) bridgeOf(i int) string { return BridgeName(i / l.perBridge) }

// joinNames names the veth pair that joins bridge k (k >= 1) to br0: the
// end on bridge k, then its peer on br0.
func (l layout) joinNames(k int) (string, string) {
	return fmt.Sprintf("up%d", k), fmt.Sprintf("dn%d", k)
}

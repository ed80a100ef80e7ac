package lab

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

// GreOptions are the tunnel's endpoints and key.
type GreOptions struct {
	Local, Remote string
	Key           uint32 // 0: none
	TTL           uint8
}

// Gre creates an IPv4 GRE tunnel, a layer-3 link (`ip link add NAME type
// gre local L remote R`); with tap, a gretap, which carries Ethernet
// frames and can join a bridge.
func (n *Netns) Gre(name string, tap bool, g GreOptions, o LinkOptions) (*Link, error) {
	kind := "gre"
	if tap {
		kind = "gretap"
	}
	local, err := parseIP("local", g.Local)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", kind, name, err)
	}
	remote, err := parseIP("remote", g.Remote)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", kind, name, err)
	}
	if remote == nil {
		return nil, fmt.Errorf("%s %q: remote is required", kind, name)
	}
	if remote.To4() == nil || local != nil && local.To4() == nil {
		return nil, fmt.Errorf("%s %q: local and remote must be IPv4 addresses", kind, name)
	}
	var flags uint16
	if g.Key != 0 {
		flags = 0x2000 // GRE_KEY
	}
	la := newAttrs(name)
	var spec netlink.Link
	if tap {
		spec = &netlink.Gretap{LinkAttrs: la, Local: local, Remote: remote, IKey: g.Key, OKey: g.Key,
			IFlags: flags, OFlags: flags, Ttl: g.TTL, PMtuDisc: 1}
	} else {
		spec = &netlink.Gretun{LinkAttrs: la, Local: local, Remote: remote, IKey: g.Key, OKey: g.Key,
			IFlags: flags, OFlags: flags, Ttl: g.TTL, PMtuDisc: 1}
	}
	return n.addLink(kind, spec, o)
}

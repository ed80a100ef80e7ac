package inspect

import "github.com/vishvananda/netlink"

// LinkKind is the kind inspect reports for a link ("veth", "bridge",
// "loopback", "device"), for the engine's Link.Kind to say the same.
func LinkKind(l netlink.Link) string { return linkKind(l) }

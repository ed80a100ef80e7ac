package inspect

import "github.com/nslua/nslua/internal/nsfs"

// Options tunes an inspection.
type Options struct {
	// Owner names the lab that owns the namespace with this inode, "" if
	// none. It may be nil.
	Owner func(inode uint64) string
	// Private gives the private state of the namespace pinned as name with
	// this inode (nil: none). It may be nil.
	Private func(name string, inode uint64) *Private
}

func (o Options) owner(inode uint64) string {
	if o.Owner == nil {
		return ""
	}
	return o.Owner(inode)
}

// Info is what one namespace holds. The JSON names are those of the Lua
// table `inspect()` returns.
type Info struct {
	Name    string            `json:"name"`
	Path    string            `json:"path"`
	Inode   uint64            `json:"inode"`
	NetnsID *int              `json:"netnsid"` // as seen from the host; nil if it has none
	Links   []Link            `json:"links"`
	Routes  []Route           `json:"routes"`
	Rules   []Rule            `json:"rules"` // policy routing, minus the kernel's three defaults
	Sysctl  map[string]string `json:"sysctl"`
	Procs   []Proc            `json:"procs"`
	Etc     []Etc             `json:"etc"`
	Lab     string            `json:"lab,omitempty"`
	Host    string            `json:"host,omitempty"`    // the host holding it, in a lab across machines ("" = this one)
	Private *Private          `json:"private,omitempty"` // the namespace's own /run, /tmp, /var/lib
	// Listen holds the sockets that wait for peers (TCP listening, UDP
	// bound and unconnected), with the processes holding them.
	Listen []Socket `json:"listen"`
	// Neighbours counts the entries of the neighbour (ARP/NDP) table.
	Neighbours int `json:"neighbours"`
	// Nftables lists the nftables tables, "FAMILY NAME" as `nft list
	// tables` shows them: whether anything filters or NATs here.
	Nftables []string `json:"nftables"`
}

// Socket is one listening socket, as `ss -ltunp` shows it.
type Socket struct {
	Proto string `json:"proto"`           // "tcp" or "udp"
	Local string `json:"local"`           // "0.0.0.0:67", "[::]:53"
	Iface string `json:"iface,omitempty"` // the device it is bound to, if any
	PIDs  []int  `json:"pids"`            // the processes holding it
	inode uint32
}

// Link is one network interface, as `ip addr` shows it.
type Link struct {
	Name   string   `json:"name"`
	Index  int      `json:"index"`
	Kind   string   `json:"kind"`  // "veth", "bridge", "loopback", "device", ...
	State  string   `json:"state"` // administrative: "up" or "down"
	Oper   string   `json:"oper"`  // operational, as the kernel reports it: "up", "down", "lower-layer-down", "unknown", ...
	MTU    int      `json:"mtu"`
	MAC    string   `json:"mac,omitempty"` // "" when none or all zeros (loopback)
	Master string   `json:"master,omitempty"`
	Addrs  []string `json:"addrs"` // "10.0.0.1/24", "fd00::1/64", kernel order
	Peer   *Peer    `json:"peer,omitempty"`
	Parent string   `json:"parent,omitempty"` // lower link of a macvlan or VLAN ("ifN" if in another namespace)
	// Params are the kind's parameters: vxlan vni, remote, local, port,
	// dev, learning, fdb; vlan id, protocol; macvlan mode; vrf table; gre
	// local, remote, key; tuntap mode; wireguard listen_port, public_key,
	// peers.
	Params map[string]any `json:"params,omitempty"`
	// Shape is the egress shaping, as link:shape() returns it (nil: none):
	// strings with units, limit a number of packets.
	Shape map[string]any `json:"shape,omitempty"`
}

// Rule is one policy-routing rule, as `ip rule` shows it.
type Rule struct {
	Priority int    `json:"priority"`
	Family   string `json:"family"` // "inet" or "inet6"
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	Iif      string `json:"iif,omitempty"`
	Oif      string `json:"oif,omitempty"`
	Fwmark   int    `json:"fwmark,omitempty"`
	Table    string `json:"table"`
}

// Peer is where the other end of a veth lives.
type Peer struct {
	Name string `json:"name"` // interface name, or "ifN" if its namespace could not be found
	// NS is the namespace: its pin name, "host", "pid:N" (a process's
	// namespace that has no pin), "inode:N" (held by a bind mount
	// elsewhere), or "netnsid:N" when it could not be found at all.
	NS    string `json:"ns"`
	Inode uint64 `json:"inode,omitempty"` // the peer namespace's inode, when known
}

// Route is one entry of a routing table (all but the local table).
type Route struct {
	Dst    string `json:"dst"`           // "default" or a prefix
	Via    string `json:"via,omitempty"` // gateway(s), comma-separated for multipath
	Dev    string `json:"dev,omitempty"` // interface(s), comma-separated for multipath
	Proto  string `json:"proto"`
	Table  string `json:"table"` // "main", or the table's number
	Src    string `json:"src,omitempty"`
	Metric int    `json:"metric,omitempty"`
	Type   string `json:"type,omitempty"` // set when not unicast: "blackhole", "unreachable", ...
}

// Proc is a process whose network namespace this is.
type Proc struct {
	PID int    `json:"pid"`
	Cmd string `json:"cmd"` // command line joined by spaces, or "[comm]" for kernel threads
}

// Etc is one entry of /etc/netns/NAME, which `ip netns exec` binds over
// its namesake in /etc.
type Etc struct {
	Path       string `json:"path"`        // "resolv.conf"
	BoundTo    string `json:"bound_to"`    // "/etc/resolv.conf"
	HostExists bool   `json:"host_exists"` // whether BoundTo exists on the host; if not, `ip netns exec` fails to bind the entry and warns (nslua's exec binds it all the same)
}

// ErrNotNetns is wrapped by errors about a path that exists but is not a
// network namespace (for one, an empty pin file left by an interrupted add).
var ErrNotNetns = nsfs.ErrNotNetns

package luabind

// Docs of the link kinds, policy routing, NAT and offload (issue 16).
var linksDocs = []Doc{
	{Section: secNetns, Name: "Netns:macvlan", Sig: "n:macvlan(name, parent [, opts]) -> Link", Extra: true,
		Text: "A macvlan on parent (a Link of n, or its name): `ip link add NAME link PARENT type macvlan mode bridge`. opts.mode: \"bridge\" (default: macvlans of one parent reach each other), \"private\", \"vepa\", \"passthru\", \"source\". " +
			"Common options of every link kind below: addr (CIDR or list), mtu, mac, up (default true), netns (create the link directly in that namespace, its parent staying here: a macvlan of a host NIC for a lab namespace). " +
			"A kind the kernel lacks raises one line naming the module (`vlan \"v10\": the kernel has no 8021q module`). Journaled like every link: gone at teardown, also after a crash (`nslua down`); on any failure nothing is left."},
	{Section: secNetns, Name: "Netns:vlan", Sig: "n:vlan(name, parent, id [, opts]) -> Link", Extra: true,
		Text: "An 802.1Q VLAN (id 1..4094) on parent: `ip link add NAME link PARENT type vlan id ID`. opts.protocol = \"802.1ad\" for QinQ; the common options (see Netns:macvlan). Needs 8021q."},
	{Section: secNetns, Name: "Netns:vxlan", Sig: "n:vxlan(name, {vni=, remote= | group=, local=, dev=, port=, learning=, remotes=, ttl=}) -> Link", Extra: true,
		Text: "A VXLAN link: `ip link add NAME type vxlan id VNI remote R local L dev D dstport P`. port defaults to 4789 (IANA), learning to true; group (multicast) needs dev. " +
			"remotes = {\"10.1.2.2\", ...} appends an all-zero FDB entry per peer (`bridge fdb append 00:00:00:00:00:00 dev NAME dst IP`): head-end replication without multicast; l:fdb adds more. Common options as for Netns:macvlan. inspect shows vni, remote, local, port, dev, fdb under params."},
	{Section: secNetns, Name: "Netns:tuntap", Sig: "n:tuntap(name [, {mode=, owner=, group=}]) -> Link", Extra: true,
		Text: "A persistent tap (mode \"tap\", default: Ethernet frames) or tun (\"tun\": IP packets) device without packet info header, as `ip tuntap add NAME mode tap user OWNER`: " +
			"a program in the namespace (a VM, an emulator) attaches by opening /dev/net/tun with TUNSETIFF, IFF_TAP|IFF_NO_PI and the name. owner/group: uid/gid allowed to attach without CAP_NET_ADMIN. Common options as for Netns:macvlan, but netns (make it where it is used)."},
	{Section: secNetns, Name: "Netns:dummy", Sig: "n:dummy(name [, opts]) -> Link", Extra: true,
		Text: "A dummy link (a home for addresses, e.g. a router's loopback /32): `ip link add NAME type dummy`. Common options as for Netns:macvlan. Needs the dummy module."},
	{Section: secNetns, Name: "Netns:vrf", Sig: "n:vrf(name, table [, opts]) -> Link", Extra: true,
		Text: "A VRF bound to routing table TABLE (not 253-255): `ip link add NAME type vrf table T`. Links join it with l:master(vrf); n:route{..., table=T} fills its table. Needs the vrf module."},
	{Section: secNetns, Name: "Netns:gre", Sig: "n:gre(name, {remote=, local=, key=, ttl=}) -> Link", Extra: true,
		Text: "An IPv4 GRE tunnel (layer 3): `ip link add NAME type gre remote R local L key K`. Common options as for Netns:macvlan. Needs ip_gre."},
	{Section: secNetns, Name: "Netns:gretap", Sig: "n:gretap(name, {remote=, local=, key=, ttl=}) -> Link", Extra: true,
		Text: "A GRE tunnel carrying Ethernet frames (bridgeable): `ip link add NAME type gretap ...`. As Netns:gre."},
	{Section: secNetns, Name: "Netns:wireguard", Sig: "n:wireguard(name, {private_key=, listen_port=, peers=}) -> Link", Extra: true,
		Text: "A WireGuard link, configured over WireGuard's generic netlink before it goes up (as `ip link add NAME type wireguard; wg setconf`). peers is a list of { public_key=, endpoint=, allowed_ips=, keepalive=, preshared_key= }. Keys are base64 (ns.wgkey makes a pair); endpoint is \"IP:port\"; allowed_ips a prefix or a list. Needs the wireguard module."},
	{Section: secNs, Name: "ns.wgkey", Sig: "ns.wgkey() -> {private=, public=}", Extra: true,
		Text: "A new WireGuard key pair, base64 (as `wg genkey` and `wg pubkey`)."},
	{Section: secNetns, Name: "Netns:rule", Sig: "n:rule{table=, from=, to=, iif=, oif=, priority=, fwmark=}", Extra: true,
		Text: "A policy-routing rule: `ip rule add from FROM to TO iif IIF oif OIF fwmark M lookup TABLE priority P` (from/to: prefixes or addresses; IPv4 or IPv6 after them). " +
			"Fill the table with n:route{..., table=}. inspect lists rules (minus the kernel's three defaults) and routes of every table but local. Rules go with the namespace."},
	{Section: secNetns, Name: "Netns:masquerade", Sig: "n:masquerade(out_link [, {source=}])", Extra: true,
		Text: "Source NAT: IPv4 traffic leaving through out_link (a Link or a name in n; from source, a prefix, if given) gets out_link's address: `nft add rule ip nslua-LAB postrouting oifname OUT ip saddr SRC masquerade`. " +
			"Rules live in the nftables table nslua-LAB (family ip) of the namespace, which only the lab writes; it is journaled and deleted at teardown (and by `nslua down` after a crash) in a namespace the lab did not create, and goes with one it did. " +
			"Routing through the namespace needs net.ipv4.ip_forward=1. ns.host():masquerade(\"eth0\", {source=\"10.0.0.0/24\"}) lets a lab reach the outside through the host's uplink (the host's forwarding sysctl is then yours to set)."},
	{Section: secNetns, Name: "Netns:forward", Sig: "n:forward{port=, to=, proto=, iif=}", Extra: true,
		Text: "A port forward (destination NAT): TCP (proto \"tcp\", default) or UDP arriving for port PORT (on iif only, if given) goes to TO, \"10.0.1.2:80\" or \"10.0.1.2\" (same port): `nft add rule ip nslua-LAB prerouting tcp dport PORT dnat to TO`. " +
			"The server's replies must route back through this namespace. Same table and teardown as Netns:masquerade."},
	{Section: secLink, Name: "Link:fdb", Sig: "l:fdb(mac, {dst=}) -> l", Extra: true,
		Text: "Append a forwarding entry to a VXLAN link: frames for mac (\"00:00:00:00:00:00\": flooded and unknown ones) go to the VTEP dst: `bridge fdb append MAC dev NAME dst DST`."},
	{Section: secLink, Name: "Link:offload", Sig: "l:offload([{tx=, rx=, sg=, tso=, gso=, gro=, lro=}]) -> {name = on}", Extra: true,
		Text: "Turn offloads on or off as `ethtool -K NAME tx off` (tx: every tx-checksum feature; the kernel drops what depends on it, e.g. tso), and return the state of those the link has. " +
			"With tx checksum offload on, a veth hands DHCP clients on raw sockets packets with partial checksums, which some drop; the built-in dhcp library turns it off on the server's link."},
}

func init() { Docs = append(Docs, linksDocs...) }

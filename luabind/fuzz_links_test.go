package luabind

// fuzzMakesLink are the entries whose Link results are new links, which
// the fuzz deletes again at once.
var fuzzMakesLink = map[string]bool{
	"ns.veth": true, "Netns:veth": true, "Netns:bridge": true,
	"Netns:macvlan": true, "Netns:vlan": true, "Netns:vxlan": true, "Netns:tuntap": true,
	"Netns:dummy": true, "Netns:vrf": true, "Netns:gre": true, "Netns:gretap": true, "Netns:wireguard": true,
}

func init() {
	fuzzOptionKeys = append(fuzzOptionKeys, "mode", "vni", "remote", "group", "local", "port", "remotes",
		"table", "from", "to", "iif", "oif", "priority", "proto", "tx", "gro", "private_key", "peers", "owner", "up")
}

package luabind

// hostsDocs are labs across machines (hosts*.go, agent.go).
var hostsDocs = []Doc{
	{Section: secNs, Name: "ns.hosts", Sig: "ns.hosts(hosts)", Extra: true,
		Text: "ns.hosts{ NAME = \"user@addr\" | \"alias\" | {ssh = ..., underlay = DEV}, ssh_config = PATH } names the other hosts of the lab and starts nslua's agent on each, all at once: the system's ssh client (`ssh -T -o BatchMode=yes [-F ssh_config] DEST`), so aliases, keys and jump hosts of its configuration apply; no port is opened and no daemon left behind. " +
			"On each host the agent is the `nslua` on its PATH when that is this very build, else this binary copied to ~/.cache/nslua/nslua-VERSION-BUILD there (written under a temporary name, then renamed); the handshake refuses another version or build and names both. " +
			"Each agent runs its host's part of the lab (same lab name) with its own journal there; this host's journal records each host first, so `nslua down LAB` here runs `nslua down LAB` on each over ssh, and `nslua down LAB` on a host alone undoes that host's part. " +
			"At the end (normal, error, Ctrl-C) each agent's stdin is closed and its report awaited; when this process is killed, ssh closes and the agents tear down by themselves. A lost connection is a Lua error at the next call to that host and is reported at the end. " +
			"The controller itself is the host \"local\". ssh_config applies to every host that does not name its own (also --ssh-config PATH; --hosts FILE names hosts before the script runs, a line `NAME DEST [underlay=DEV]` each). " +
			"A host's underlay address is the one its ssh connection reached ($SSH_CONNECTION there), the controller's the one that connection came from; the underlay device is found by a route lookup unless underlay = DEV. " +
			"ns.add(name, {host = \"b\"}) returns a Netns made on host b by its agent: every method is sent there and runs on the real object in the agent's Lua state (Links and Procs it returns are such objects too), fields are read there, and n.host is \"b\" (\"local\" on the controller's own). " +
			"Values that cross: nil, booleans, numbers, strings, tables of those, and objects of the same host; a function or an object of another host is an error (`n:spawn: a function cannot be passed to a namespace on host b`), so spawn's ready function works on the controller's namespaces only (a pattern or {port = N} works everywhere); ns.after and ns.every functions may call other hosts' objects, but they do not run while a call to another host is under way (they run at the next ns.sleep or local call). " +
			"a:veth(name, b, peer_name, opts) between namespaces of two hosts makes a VXLAN pair instead, with the same names, addr, peer_addr, mac, peer_mac and mtu (default: the underlay's MTU minus 50): each end is created from its host's own namespace directly in the lab's (its UDP socket, port 4789, stays on the underlay), one VNI per link (from the lab's name, the next one when a host has it in use). " +
			"Files a library writes for a daemon go to the namespace's host (nslua.dhcp's do)."},
	{Section: secNs, Name: "ns.place", Sig: "ns.place(how)", Extra: true,
		Text: "ns.place(\"spread\" | function(name, i) -> host | nil): where ns.add puts a namespace that names no host: \"spread\" goes round the hosts (\"local\" first, then those of ns.hosts in the order of their names), a function is asked with the name and a count from 1 (nil or \"local\" is the controller); nil puts them all here again. A topology library then runs unchanged across hosts."},
}

func init() { Docs = append(Docs, hostsDocs...) }

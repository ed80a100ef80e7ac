package luabind

var privateDocs = []Doc{
	{Section: secNetns, Name: "Netns:file", Sig: "n:file(path) -> string|nil", Extra: true,
		Text: "The content of what programs in n see at the absolute path, or nil when there is no such file: n:file(\"/var/lib/misc/dnsmasq.leases\"). " +
			"A namespace made by ns.add has private state, kept in /run/nslua/LAB/ns/NAME and removed at teardown: its programs (exec, spawn, `nslua exec`) see " +
			"/run (and /var/run) as an empty directory of its own, with the host's /run/netns and /run/nslua bound back in (`ip netns` and the lab's logs keep working); " +
			"/tmp as an empty directory of its own; /var/lib as a copy-on-write view of the host's (what a daemon writes there, dnsmasq's and dhclient's leases say, stays in the namespace; the host's files never change). " +
			"Each is shared by every program of the namespace, across execs. ns.add's share = {paths} shows those host paths instead, private = false the host's view of all three; " +
			"namespaces opened or pinned (ns.open, ns.pin, ns.host) keep the host's view. `ip netns exec` does not apply private state (a kept lab says so). " +
			"A symlink inside the private state is not followed (an error)."},
}

func init() { Docs = append(Docs, privateDocs...) }

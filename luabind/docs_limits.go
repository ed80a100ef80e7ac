package luabind

// Entries for the machine limits of big labs (limits.go).
var limitsDocs = []Doc{
	{Section: secNs, Name: "ns.check_limits", Sig: "ns.check_limits{namespaces=, neighbours=}", Extra: true,
		Text: "Before building a big lab: raises, one line per limit, if the machine cannot hold namespaces network namespaces (open files: 2 per namespace, `ulimit -n`; user.max_net_namespaces) " +
			"or neighbours more ARP/NDP entries (net.ipv4/ipv6.neigh.default.gc_thresh3, which caps the entries of all namespaces together), naming the ulimit or sysctl to raise and to what. " +
			"nslua raises its own soft open-files limit to the hard one at start. examples/star.lua calls it."},
}

// init files each entry after the last of its section (as docs_shape.go).
func init() {
	for _, d := range limitsDocs {
		at := len(Docs)
		for i := range Docs {
			if Docs[i].Section == d.Section {
				at = i + 1
			}
		}
		Docs = append(Docs[:at], append([]Doc{d}, Docs[at:]...)...)
	}
}

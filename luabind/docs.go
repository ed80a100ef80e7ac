package luabind

import (
	"fmt"
	"io"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/scripts"
)

// Doc is one entry of the API reference. The same table feeds help() in
// the REPL and docs/API.md (see TestAPIReference), so they never disagree.
type Doc struct {
	Name    string // "ns.add", "Netns:exec", "Link:up", "Proc:kill"
	Sig     string // call shape and what it returns
	Text    string // behaviour, options, errors
	Section string
	Extra   bool   // an addition to the project's original API contract
	Lib     string // the built-in library of the entry ("nslua.topo"); its Text is laid out as written
}

const (
	secNs    = "Namespaces and the lab"
	secNetns = "Netns methods"
	secLink  = "Link methods"
	secProc  = "Proc methods"
)

// Docs is the API reference of the module; allDocs adds the built-in
// libraries' entries.
var Docs = []Doc{
	{Section: secNs, Name: "ns.add", Sig: "ns.add(name [, opts]) -> Netns",
		Text: "Create a network namespace and pin it at /run/netns/NAME exactly as `ip netns add` does (visible to `ip netns list`, usable by `ip netns exec`); lo is up. " +
			"The namespace gets its own /etc/netns/NAME/resolv.conf (a copy of the host's, written when a program first runs in it or the lab is kept) so that DHCP clients inside never rewrite the host's. " +
			"opts.etc = { [\"resolv.conf\"] = \"...\", hosts = \"...\" } writes files under /etc/netns/NAME; opts.sysctl = { [\"net.ipv4.ip_forward\"] = 1 }; " +
			"Programs nslua runs inside (exec, spawn, `nslua exec`) see their own /run (and /var/run), /tmp and /var/lib (help(\"Netns:file\")): opts.share = {\"/var/lib/foo\", \"/run/bar\"} shows those host paths to them instead, opts.private = false the host's view of all three. " +
			"opts.exist_ok = true returns an existing namespace instead of raising. opts.host = \"b\" makes it on another host of the lab (help(\"ns.hosts\")). Names follow ip's rules (not empty, no '/', not . or .., < 256 bytes) and must be UTF-8 text without NUL, as must every name, path and key the API takes. Removed at teardown."},
	{Section: secNs, Name: "ns.open", Sig: "ns.open(name) -> Netns",
		Text: "An existing pinned namespace, whoever made it. Teardown never removes it."},
	{Section: secNs, Name: "ns.pin", Sig: "ns.pin(name, target) -> Netns",
		Text: "Pin an existing namespace under NAME, like `ip netns attach`: target is a PID (a container's) or an absolute path to an nsfs file (/proc/PID/ns/net, another pin). " +
			"Refuses PID 0, dead PIDs and files that are not network namespaces. Teardown removes the pin only, never the processes."},
	{Section: secNs, Name: "ns.host", Sig: "ns.host() -> Netns",
		Text: "The namespace nslua was started in. Its exec/spawn run without any /etc binding."},
	{Section: secNs, Name: "ns.list", Sig: "ns.list() -> {string}",
		Text: "Names pinned in /run/netns, sorted."},
	{Section: secNs, Name: "ns.inspect", Sig: "ns.inspect([name]) -> table",
		Text: "n:inspect() of the namespace NAME, or of every pinned namespace as { [name] = ... }."},
	{Section: secNs, Name: "ns.veth", Sig: "ns.veth{ {a, \"a0\" [, \"10.0.0.1/24\"]}, {b, \"b0\" [, \"10.0.0.2/24\"]} } -> Link, Link",
		Text: "Shorthand for a:veth(\"a0\", b, \"b0\", {addr=..., peer_addr=...})."},
	{Section: secNs, Name: "ns.keep", Sig: "ns.keep()",
		Text: "Leave everything this run built in place on exit, as --keep does; `nslua down LAB` removes it later."},
	{Section: secNs, Name: "ns.wait", Sig: "ns.wait()",
		Text: "Block until SIGINT or SIGTERM (keep the lab up while you look at it); then the script goes on to its end and teardown."},
	{Section: secNs, Name: "ns.defer", Sig: "ns.defer(fn)",
		Text: "Register fn to run at teardown, before the built-in steps; the newest runs first. An error in one is reported, the others still run and the exit status is 1. " +
			"Each has 10 s: one still running then is stopped (a loop, ns.sleep, exec, wait) and the next runs; a signal during the teardown stops the one running and skips the rest."},
	{Section: secNs, Name: "ns.sleep", Sig: "ns.sleep(seconds)", Extra: true,
		Text: "Sleep; Ctrl-C in the REPL interrupts it."},
	{Section: secNs, Name: "ns.clock", Sig: "ns.clock() -> seconds", Extra: true,
		Text: "Monotonic time in seconds (fractional) since nslua started, for timing steps of a lab."},
	{Section: secNs, Name: "ns.lab", Sig: "ns.lab() -> {name=, dir=}", Extra: true,
		Text: "The lab's name and its state directory (/run/nslua/LAB): put leases, configs and keys there; it is removed at teardown."},
	{Section: secNs, Name: "ns.libfile", Sig: "ns.libfile(name) -> string", Extra: true,
		Text: "A file shipped with the built-in libraries (e.g. \"udhcpc.script\")."},
	{Section: secNs, Name: "help", Sig: "help([fn | \"Netns:exec\"])",
		Text: "List the API, or show one entry: help(ns.add), help(\"Link:master\")."},

	{Section: secNetns, Name: "Netns fields", Sig: "n.name, n.path, n.inode, n.host",
		Text: "inode identifies the namespace (as `stat -L -c %i`); two handles on one namespace are ==. host is the lab's host that holds it (\"local\": this one; help(\"ns.hosts\"))."},
	{Section: secNetns, Name: "Netns:exec", Sig: "n:exec(cmd [, opts]) -> {code=, stdout=, stderr=, signal=, timeout=}",
		Text: "Run and wait, inside the namespace, with /etc/netns/NAME bound over /etc (see README: /etc binding). cmd is an argv table {\"ip\",\"addr\"} or a string run by /bin/sh -c. " +
			"opts: env (table, added to the environment), dir, stdin (string), timeout (seconds; then the process group is killed and the result has timeout=true, code 137, signal=\"SIGKILL\"), " +
			"check=true (raise when code ~= 0). A missing program gives code 127 and says which Debian package has it: from dpkg's database when an installed package has it off PATH (then where), from apt-file when that is installed, else from a short list of the daemons labs use, or plainly that this is unknown; one that cannot run, 126. Raises for bad arguments (an env name with '=', a dir that is not there) and an unusable namespace (its pin deleted), saying which."},
	{Section: secNetns, Name: "Netns:spawn", Sig: "n:spawn(cmd [, opts]) -> Proc",
		Text: "Start a long-running process (a daemon) like exec, in its own process group, output to a log file (default /run/nslua/LAB/logs/; opts.log = a file name, put there, or a path inside /run/nslua/LAB: anything else, .. and symlinks are refused, so a log never lands outside the lab). " +
			"opts.ready makes spawn wait until the process is ready: a \"lua pattern\" that a log line matches; {port = 5201 [, proto = \"tcp\"|\"udp\"]}, a socket listening on that port in the namespace (TCP LISTEN or a bound UDP socket, by sock_diag as inspect's listen list: works for daemons that buffer their output, such as iperf3 -s); or a function fn(proc) called every 100 ms until it returns a true value (an error in it is raised). " +
			"Within opts.ready_timeout (default 10 s); raises, saying what it waited for and quoting the log's last lines, if the process dies or time runs out first (the process is stopped then). " +
			"opts env, dir, stdin as for exec. Stopped at teardown (TERM, then KILL after 3 s)."},
	{Section: secNetns, Name: "Netns:etc", Sig: "n:etc(path [, content]) -> n | string | nil",
		Text: "Write (or, without content, read; nil when absent) /etc/netns/NAME/path; directories are made. path is relative to /etc (\"resolv.conf\", \"hostapd/x.conf\"); " +
			"absolute paths, .. and symlinks anywhere on the way (/etc/netns/NAME itself included) are refused, and so are files with more than one link, FIFOs, devices and sockets (an error at once, never a block). exec and spawn refuse to run while /etc/netns/NAME is or holds a symlink, a hard link or a special file: bound over /etc, it would let a program write where it points. A file that existed before the run is restored at teardown; one the run made is removed, unless another file has taken its place (then it is left, and teardown says so)."},
	{Section: secNetns, Name: "Netns:veth", Sig: "n:veth(name, peer_ns, peer_name [, opts]) -> Link, Link",
		Text: "A veth pair, one end NAME in n and the other PEER_NAME in peer_ns (made there directly), both up. opts.addr, opts.peer_addr (CIDR string or list), opts.mtu, opts.mac, opts.peer_mac. " +
			"Interface names: 1-15 bytes of UTF-8, no '/', ':', '%' (a kernel name template) or white space. On any failure nothing is left."},
	{Section: secNetns, Name: "Netns:bridge", Sig: "n:bridge(name [, opts]) -> Link",
		Text: "A bridge, up. opts.stp (boolean), opts.group_fwd_mask (e.g. 8 to forward EAPOL), opts.up (false: created down; bring it up with Link:up after adding many ports, which is much faster for big bridges)."},
	{Section: secNetns, Name: "Netns:link", Sig: "n:link(name) -> Link", Text: "An existing interface; raises if absent."},
	{Section: secNetns, Name: "Netns:links", Sig: "n:links() -> {Link}", Text: "All interfaces."},
	{Section: secNetns, Name: "Netns:addr", Sig: "n:addr(dev, cidr) -> Link",
		Text: "Add an address (IPv4 or IPv6; IPv6 without duplicate address detection, usable at once)."},
	{Section: secNetns, Name: "Netns:route", Sig: "n:route(dst, via [, dev]) | n:route{dst=, via=, dev=, metric=, table=}",
		Text: "Add a route; dst is a prefix, an address or \"default\" (IPv4 or IPv6 after the gateway). A gateway that is on no connected network raises. table (a number, default main) puts it in another routing table (see Netns:rule, Netns:vrf)."},
	{Section: secNetns, Name: "Netns:sysctl", Sig: "n:sysctl(key [, value]) -> string",
		Text: "Read, or write then read back, a net.* sysctl inside the namespace (\"net.ipv4.ip_forward\"). Keys that would leave /proc/sys/net are refused."},
	{Section: secNetns, Name: "Netns:pids", Sig: "n:pids() -> {pid}", Text: "PIDs of every process in the namespace (as `ip netns pids`)."},
	{Section: secNetns, Name: "Netns:inspect", Sig: "n:inspect() -> table",
		Text: "What the namespace holds now: { name, path, inode, netnsid, links = { {name, index, kind, state, mtu, mac, master, addrs, peer = {name, ns}, parent, params} }, routes = { {dst, via, dev, proto, table} } (every table but local), " +
			"rules = { {priority, family, from, to, iif, oif, fwmark, table} }, sysctl, procs = { {pid, cmd} }, etc = { {path, bound_to, host_exists} }, lab, " +
			"listen = { {proto, local, iface, pids} } (TCP listening and unbound UDP sockets, by sock_diag, with the processes holding them), neighbours (count of ARP/NDP entries), nftables (its tables, \"FAMILY NAME\" as `nft list tables`) }."},
	{Section: secNetns, Name: "Netns:delete", Sig: "n:delete()",
		Text: "Stop the processes nslua started in it (and, for a namespace this lab made, every other process inside, which would otherwise keep it alive and invisible), " +
			"remove the /etc/netns/NAME files this run wrote, and unpin it."},

	{Section: secLink, Name: "Link fields", Sig: "l.name, l.ns, l.index, l.kind", Text: "kind is what inspect says: \"veth\", \"bridge\", \"loopback\" (lo), \"device\" (a physical NIC), \"macvlan\", \"vlan\", \"vxlan\", \"tuntap\", \"dummy\", \"vrf\", \"gre\", \"gretap\", \"wireguard\"..."},
	{Section: secLink, Name: "Link:up", Sig: "l:up() -> l", Text: "`ip link set NAME up`."},
	{Section: secLink, Name: "Link:down", Sig: "l:down() -> l", Text: "`ip link set NAME down`."},
	{Section: secLink, Name: "Link:addr", Sig: "l:addr(cidr) -> l", Text: "Add an address; returns the link so calls chain."},
	{Section: secLink, Name: "Link:addrs", Sig: "l:addrs() -> {cidr}", Text: "The link's addresses, IPv6 link-local included."},
	{Section: secLink, Name: "Link:mtu", Sig: "l:mtu([n]) -> n", Text: "Read or set the MTU (68..65535)."},
	{Section: secLink, Name: "Link:mac", Sig: "l:mac([mac]) -> mac", Text: "Read or set the MAC address."},
	{Section: secLink, Name: "Link:master", Sig: "l:master(bridge | nil) -> l", Text: "Enslave to a bridge (or a VRF) in the same namespace; nil releases."},
	{Section: secLink, Name: "Link:port", Sig: "l:port{learning=, locked=, flood=, isolated=} -> l", Extra: true,
		Text: "Bridge-port flags of an enslaved link (`bridge link set dev NAME learning off locked on`): a locked port forwards only from MACs with a static fdb entry (802.1X access ports)."},
	{Section: secLink, Name: "Link:stp", Sig: "l:stp(on) -> l", Extra: true, Text: "Turn a bridge's spanning tree on or off."},
	{Section: secLink, Name: "Link:group_fwd_mask", Sig: "l:group_fwd_mask(mask) -> l", Extra: true, Text: "Set which link-local groups a bridge forwards (8: EAPOL)."},
	{Section: secLink, Name: "Link:move", Sig: "l:move(netns [, new_name]) -> l", Text: "Move to another namespace (addresses do not follow)."},
	{Section: secLink, Name: "Link:delete", Sig: "l:delete()", Text: "`ip link del NAME` (a veth takes its peer with it)."},
	{Section: secLink, Name: "Link:info", Sig: "l:info() -> table", Text: "The same table as one entry of inspect().links."},

	{Section: secProc, Name: "Proc fields", Sig: "p.pid, p.ns, p.cmd, p.log", Text: "log is the path of the process's log file."},
	{Section: secProc, Name: "Proc:alive", Sig: "p:alive() -> boolean", Text: "Whether it still runs."},
	{Section: secProc, Name: "Proc:wait", Sig: "p:wait([timeout]) -> {code=, stdout=, signal=} | nil",
		Text: "Wait for the exit (stdout holds the log); nil when timeout seconds passed first."},
	{Section: secProc, Name: "Proc:kill", Sig: "p:kill([signal])",
		Text: "Signal its process group: default TERM, then KILL after 3 s if still alive; signal is a name (\"HUP\") or a number."},
	{Section: secProc, Name: "Proc:output", Sig: "p:output() -> string", Text: "The log's contents so far."},
}

func docByName(name string) *Doc {
	all := allDocs()
	for i := range all {
		if strings.EqualFold(all[i].Name, name) {
			return &all[i]
		}
	}
	return nil
}

// help prints the API, or one entry. It finds an entry by name
// ("Netns:exec", "exec"), or by the function value itself (help(ns.add)).
func (rt *Runtime) help(L *lua.LState) int {
	c := newCall(L, "help", 1)
	out := rt.Out
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
		writeIndex(out)
	case lua.LString:
		writeOne(out, string(v))
	case *lua.LFunction:
		name := rt.nameOf(L, v)
		if name == "?" {
			name = libName(L, v)
		}
		writeOne(out, name)
	default:
		c.bad(1, "topic", "a function or a name such as \"Netns:exec\"", v)
	}
	return 0
}

// nameOf finds a module function or method by identity.
func (rt *Runtime) nameOf(L *lua.LState, fn *lua.LFunction) string {
	if mod, ok := L.GetGlobal("ns").(*lua.LTable); ok {
		found := ""
		mod.ForEach(func(k, v lua.LValue) {
			if v == fn {
				found = "ns." + k.String()
			}
		})
		if found != "" {
			return found
		}
	}
	if found := methodName(L, fn); found != "" {
		return found
	}
	return "?"
}

// methodName finds fn among the methods of every type L has registered.
// The registry, not a list of names, says which types there are: some
// (Capture, Timer) are registered on first use, and a list falls behind.
func methodName(L *lua.LState, fn *lua.LFunction) string {
	found := ""
	L.G.Registry.ForEach(func(k, v lua.LValue) {
		typ, isName := k.(lua.LString)
		mt, isTable := v.(*lua.LTable)
		if found != "" || !isName || !isTable || mt.RawGetString("__name") != typ {
			return
		}
		if methods, ok := mt.RawGetString("__methods").(*lua.LTable); ok {
			methods.ForEach(func(name, m lua.LValue) {
				if m == fn {
					found = string(typ) + ":" + name.String()
				}
			})
		}
	})
	return found
}

func writeOne(out io.Writer, name string) {
	d := docByName(name)
	if d == nil {
		for _, prefix := range []string{"ns.", "Netns:", "Link:", "Proc:", "Capture:"} {
			if d = docByName(prefix + name); d != nil {
				break
			}
		}
	}
	if d == nil {
		fmt.Fprintf(out, "no help for %q; help() lists everything\n", name)
		return
	}
	if d.Lib != "" {
		fmt.Fprintf(out, "%s\n\n%s\n", d.Sig, d.Text)
		return
	}
	fmt.Fprintf(out, "%s\n\n%s\n", d.Sig, wrap(d.Text, 78))
}

// grouped is allDocs with the entries of each section together, sections in
// the order they first appear: entries added by topic files (docs_*.go)
// join their section wherever they were appended.
func grouped() []Doc {
	var order []string
	by := map[string][]Doc{}
	all := allDocs()
	for _, d := range all {
		if _, seen := by[d.Section]; !seen {
			order = append(order, d.Section)
		}
		by[d.Section] = append(by[d.Section], d)
	}
	out := make([]Doc, 0, len(all))
	for _, s := range order {
		out = append(out, by[s]...)
	}
	return out
}

func writeIndex(out io.Writer) {
	section := ""
	for _, d := range grouped() {
		if d.Section != section {
			section = d.Section
			fmt.Fprintf(out, "\n%s:\n", section)
		}
		fmt.Fprintf(out, "  %s\n", d.Sig)
	}
	fmt.Fprintf(out, "\nBuilt-in libraries: %s (each listed above)\nhelp(\"Netns:exec\"), help(ns.add), help(\"topo.star\") or help(topo.star) shows one entry.\n", strings.Join(scripts.Modules(), ", "))
}

func wrap(text string, width int) string {
	var b strings.Builder
	col := 0
	for _, w := range strings.Fields(text) {
		if col > 0 && col+1+len(w) > width {
			b.WriteString("\n")
			col = 0
		} else if col > 0 {
			b.WriteString(" ")
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

// Markdown renders the reference for docs/API.md.
func Markdown(w io.Writer) {
	fmt.Fprintf(w, "# nslua Lua API reference\n\n")
	fmt.Fprintf(w, "Generated from luabind/docs.go and the header comments of scripts/*.lua (the source of the REPL's help()); `go test ./luabind -run TestAPIReference -update` rewrites it.\n")
	fmt.Fprintf(w, "Entries marked *(addition)* go beyond the project's original API contract.\n")
	section := ""
	for _, d := range grouped() {
		if d.Section != section {
			section = d.Section
			fmt.Fprintf(w, "\n## %s\n\n", section)
		}
		extra := ""
		if d.Extra {
			extra = " *(addition)*"
		}
		if d.Lib != "" {
			fmt.Fprintf(w, "### `%s`\n\n```\n%s\n```\n\n", d.Sig, d.Text)
			continue
		}
		fmt.Fprintf(w, "### `%s`%s\n\n%s\n\n", d.Sig, extra, d.Text)
	}
}

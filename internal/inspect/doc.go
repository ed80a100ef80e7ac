// Package inspect reports what a network namespace holds right now: its
// links with their addresses, masters and veth peers, the main routing
// table, the forwarding sysctls, the processes living in it and the
// /etc/netns files `ip netns exec` would bind for it. It backs
// `n:inspect()`, `ns.inspect()`, `nslua inspect` and `nslua graph`.
//
// Everything is read live from the kernel; nothing is cached between calls
// and nothing is changed (RTM_GETNSID queries never allocate ids, although
// the kernel itself allocates one when a link dump names a veth's peer
// namespace, exactly as `ip link` does).
//
// How the pieces are read, and why:
//
//   - Netlink: one NETLINK_ROUTE socket per namespace, opened on a thread
//     inside it that is never handed back to the scheduler (each worker of
//     an inspection locks its own thread, joins one namespace after the
//     other and ends locked, so the runtime destroys it; single namespaces
//     use nsfs.Do's throw-away thread) rather than with
//     netlink.NewHandleAt, which switches the caller's thread and back and
//     would hand that thread to the scheduler in the wrong namespace if the
//     switch back failed. A socket stays bound to the namespace it was made
//     in, so the dumps themselves run on any thread. Dumps are retried when
//     the kernel reports them interrupted by a concurrent change.
//   - The host is the namespace of the calling thread, not /proc/self's:
//     that is the main thread's, which the Go runtime parks for good (in
//     whatever namespace it was) if a goroutine locked to it ends.
//   - Namespaces are opened and dumped a few at a time, in parallel.
//   - Routes: the main table, IPv4 and IPv6, exactly what `ip route` and
//     `ip -6 route` list, including the kernel's fe80::/64 route per
//     IPv6-enabled link: they are few and they are real (multicast routes
//     live in the local table and are not shown).
//   - Sysctls (the forwarding switches): read with RTM_GETNETCONF on a
//     socket made on the thread inside the namespace, not from
//     /proc/sys/net, whose lookups cost O(namespaces on the machine) each.
//   - Processes: one pass over /proc per call, matching the inode of each
//     /proc/PID/ns/net.
//   - veth peers: a veth reports its peer as (IFLA_LINK_NETNSID, IFLA_LINK),
//     both relative to the namespace it sits in. All matches the pair
//     against the other namespaces it has already dumped (a veth there with
//     the mirrored indexes) and confirms a candidate with one RTM_GETNSID
//     (cached per namespace and netnsid), so inspecting N namespaces costs
//     O(N) netlink requests. A peer in a namespace that nothing inspected
//     holds is searched among the host, the pins, the processes'
//     namespaces and nsfs bind mounts elsewhere, and named "host", the pin
//     name, "pid:N" or "inode:N"; one that cannot be found at all is
//     "netnsid:N" with the interface "ifN".
//
// Graph draws namespaces as nodes, bridges as nodes of their own joined to
// their namespace by a membership edge, and each veth pair as exactly one
// edge between the nodes its two ends belong to (the bridge an end is
// enslaved to, else its namespace). IPv6 link-local addresses are left out
// of graph labels, where they would only add clutter.
package inspect

package luabind

// Entries for link shaping and the timeline (shape.go, timeline.go).
var shapeDocs = []Doc{
	{Section: secNs, Name: "ns.after", Sig: "ns.after(seconds, fn) -> Timer", Extra: true,
		Text: "Call fn(timer) once, seconds from now, while the script waits: timers run inside ns.sleep, ns.wait, p:wait and n:exec (Lua runs on one thread, so never in the middle of other Lua code; a script that wants them to run sleeps). " +
			"A timer due while the script is busy runs at its next wait. timer:cancel() stops it. An error in fn is raised by the waiting call, naming where the timer was set. " +
			"Inside fn, waits do not run other timers. Timers still pending when the script ends never run."},
	{Section: secNs, Name: "ns.every", Sig: "ns.every(seconds, fn) -> Timer", Extra: true,
		Text: "Call fn(timer) every seconds (at least 0.001), first seconds from now, while the script waits, as ns.after; ticks missed while the script was busy are skipped, not caught up. " +
			"timer:cancel(), also from inside fn, stops it. E.g. a link flap: ns.every(2, function() if up then l:down() else l:up() end up = not up end); ns.sleep(20)."},
	{Section: secNs, Name: "Timer:cancel", Sig: "timer:cancel()", Extra: true,
		Text: "Stop a timer of ns.after or ns.every: its fn does not run again, also when called from inside fn. Cancelling a timer that has run or was cancelled does nothing."},
	{Section: secLink, Name: "Link:shape", Sig: "l:shape{rate=, burst=, delay=, jitter=, loss=, duplicate=, corrupt=, reorder=, limit=, peer=} -> l | l:shape() -> table | nil | l:shape(false) -> l", Extra: true,
		Text: "Shape what the link sends (its egress, as the kernel shapes: one direction): rate = \"10mbit\" (bit, kbit, mbit, gbit; \"mbps\" is refused, as tc reads it as megabytes), burst = \"32kb\" (bytes the rate may be exceeded by; default 10 ms of the rate), " +
			"delay = \"20ms\" (us, ms, s), jitter = \"5ms\" (delay varies by up to that, uniformly), loss, duplicate, corrupt, reorder = \"1%\" (reorder sends that share of packets without the delay), limit = 100 (queue length in packets). " +
			"Values are strings with a unit: 20 or \"20\" raise `delay: '20' has no unit; write 20ms`. The rate is a tbf qdisc, the rest netem (sch_netem: where the kernel lacks it, such a request raises one line naming it; the rate alone still works), " +
			"as one qdisc tree made through netlink. The table is the whole shaping: keys left out are off. Setting it again changes the qdiscs in place (same link, same ifindex; a rate added to or removed from a netem replaces the root). " +
			"peer = true shapes the other end of a veth the same way, peer = {...} its own way (a delay on one end adds it once to the round trip, on both ends twice). l:shape() reads the shaping back from the kernel as the same table (keys at their default left out; limit a number, the rest strings), nil when the link is not shaped; " +
			"l:shape(false) removes it (this end only; l:shape{peer = true} removes both). In the lab's namespaces the qdiscs go with them; on a link elsewhere (the host, ns.open) the shaping is journaled and removed at teardown, and a qdisc someone else configured there is refused rather than replaced (and left alone by l:shape(false)). " +
			"n:veth and ns.veth take the same table as opts.shape (on the first end; peer = true for both), topo.star and topo.chain as opts.shape for every link."},
}

// init files each entry after the last of its section, so that help()
// and docs/API.md show one heading per section.
func init() {
	for _, d := range shapeDocs {
		at := len(Docs)
		for i := range Docs {
			if Docs[i].Section == d.Section {
				at = i + 1
			}
		}
		Docs = append(Docs[:at], append([]Doc{d}, Docs[at:]...)...)
	}
}

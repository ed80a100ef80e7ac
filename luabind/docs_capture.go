package luabind

const secCapture = "Capture methods"

var captureDocs = []Doc{
	{Section: secNs, Name: "ns.capture", Sig: "ns.capture{links = {Link | \"NS:LINK\", ...} [, file=, filter=, count=]} -> Capture", Extra: true,
		Text: "Capture packets on several links (of any namespaces, \"host:eth0\" included) at once, as Link:capture does for one: " +
			"one pcapng file with an interface per link named NS:LINK, packets of all links in time order."},
	{Section: secLink, Name: "Link:capture", Sig: "l:capture{[file=, filter=, count=]} -> Capture", Extra: true,
		Text: "Start capturing the link's packets (both directions) from a packet socket inside its namespace; no tcpdump runs. " +
			"opts.file: a pcapng file to write (Wireshark, tshark and tcpdump read it); an existing file that is not a capture is never overwritten. " +
			"opts.filter: a pcap-filter(7) expression as for tcpdump (\"ether proto 0x888e\", \"udp port 67\"), compiled by the system's libpcap (libpcap0.8; needs nslua built with cgo). " +
			"opts.count: stop after that many packets. The capture runs until :stop(), count, or teardown, which stops and flushes it. " +
			"A lab captures at most 16 links at once (each holds an 8 MiB kernel ring)."},
	{Section: secCapture, Name: "Capture fields", Sig: "c.file, c.links", Extra: true,
		Text: "file is the pcapng file (nil without one); links the NS:LINK names captured."},
	{Section: secCapture, Name: "Capture:stop", Sig: "c:stop() -> count", Extra: true,
		Text: "Stop, write what was read (including what the kernel queued until now) and close the file; returns the number of packets captured. Raises if writing failed. Safe to repeat."},
	{Section: secCapture, Name: "Capture:count", Sig: "c:count() -> n", Extra: true,
		Text: "Packets captured so far (written in time order)."},
	{Section: secCapture, Name: "Capture:packets", Sig: "c:packets() -> { {time=, iface=, src=, dst=, proto=, length=, summary=}, ... }", Extra: true,
		Text: "The packets so far (the first 100000), decoded: time in Unix seconds, iface NS:LINK, src/dst IP addresses (MAC addresses below IP), " +
			"proto \"dhcp\", \"udp\", \"tcp\", \"icmp\", \"icmp6\", \"arp\", \"eapol\"... (else the ethertype), length on the wire, and a tcpdump-like summary line " +
			"(\"IP 0.0.0.0.68 > 255.255.255.255.67: DHCPDISCOVER, xid 0x1a2b3c4d, length 300\", \"EAPOL 02:..:01 > 01:80:c2:00:00:03: EAP Request Identity (id 1), length 60\")."},
	{Section: secCapture, Name: "Capture:wait", Sig: "c:wait([timeout]) -> boolean", Extra: true,
		Text: "Wait until the capture ends by itself (opts.count reached); false when timeout seconds passed first."},
}

// Each entry goes after the last one of its section, so that a section
// stays in one piece in help() and docs/API.md.
func init() {
	for _, d := range captureDocs {
		at := len(Docs)
		for i := range Docs {
			if Docs[i].Section == d.Section {
				at = i + 1
			}
		}
		Docs = append(Docs[:at], append([]Doc{d}, Docs[at:]...)...)
	}
}

package capture

import (
	"fmt"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Packet is a decoded one-line view of a packet, as tcpdump prints it.
type Packet struct {
	Time    time.Time
	Iface   string // NS:LINK
	Src     string // IP address, or MAC address below IP
	Dst     string
	Proto   string // the innermost protocol decoded: "dhcp", "udp", "tcp", "icmp", "arp", "eapol"...
	Length  int    // on the wire
	Summary string // e.g. "IP 0.0.0.0.68 > 255.255.255.255.67: DHCPDISCOVER, xid 0x1a2b3c4d, length 300"
}

// Line is the packet as `nslua capture` prints it.
func (p Packet) Line() string {
	return fmt.Sprintf("%s %s %s", p.Time.Format("15:04:05.000000"), p.Iface, p.Summary)
}

// Summarize decodes a packet with gopacket's layers.
func Summarize(data []byte, lt layers.LinkType, ts time.Time, iface string, wireLen int) Packet {
	p := Packet{Time: ts, Iface: iface, Length: max(wireLen, len(data))}
	pk := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	if eth, ok := pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); ok {
		p.Src, p.Dst = eth.SrcMAC.String(), eth.DstMAC.String()
		p.Proto = fmt.Sprintf("0x%04x", uint16(eth.EthernetType))
		p.Summary = fmt.Sprintf("ether %s > %s, ethertype 0x%04x, length %d", p.Src, p.Dst, uint16(eth.EthernetType), p.Length)
	}
	switch {
	case pk.Layer(layers.LayerTypeARP) != nil:
		arpSummary(&p, pk.Layer(layers.LayerTypeARP).(*layers.ARP))
	case pk.Layer(layers.LayerTypeEAPOL) != nil:
		eapolSummary(&p, pk)
	case pk.NetworkLayer() != nil:
		ipSummary(&p, pk)
	}
	if p.Summary == "" {
		p.Proto, p.Summary = "unknown", fmt.Sprintf("unknown, length %d", p.Length)
	}
	return p
}

func arpSummary(p *Packet, a *layers.ARP) {
	p.Proto = "arp"
	src, dst := ipString(a.SourceProtAddress), ipString(a.DstProtAddress)
	if a.Operation == layers.ARPReply {
		p.Summary = fmt.Sprintf("ARP, Reply %s is-at %s, length %d", src, macString(a.SourceHwAddress), p.Length)
	} else {
		p.Summary = fmt.Sprintf("ARP, Request who-has %s tell %s, length %d", dst, src, p.Length)
	}
}

var eapCodes = map[layers.EAPCode]string{layers.EAPCodeRequest: "Request", layers.EAPCodeResponse: "Response",
	layers.EAPCodeSuccess: "Success", layers.EAPCodeFailure: "Failure"}

var eapTypes = map[layers.EAPType]string{layers.EAPTypeIdentity: "Identity", layers.EAPTypeNotification: "Notification",
	layers.EAPTypeNACK: "Nak", 4: "MD5-Challenge", 13: "TLS", 21: "TTLS", 25: "PEAP", 26: "MSCHAPv2", 47: "PSK", 52: "PWD"}

func eapolSummary(p *Packet, pk gopacket.Packet) {
	p.Proto = "eapol"
	e := pk.Layer(layers.LayerTypeEAPOL).(*layers.EAPOL)
	what := map[layers.EAPOLType]string{layers.EAPOLTypeStart: "start", layers.EAPOLTypeLogOff: "logoff",
		layers.EAPOLTypeKey: "key"}[e.Type]
	if eap, ok := pk.Layer(layers.LayerTypeEAP).(*layers.EAP); ok {
		what = fmt.Sprintf("EAP %s", eapCodes[eap.Code])
		if t, ok := eapTypes[eap.Type]; ok && eap.Code <= layers.EAPCodeResponse {
			what += " " + t
		} else if eap.Code <= layers.EAPCodeResponse {
			what += fmt.Sprintf(" type %d", eap.Type)
		}
		what += fmt.Sprintf(" (id %d)", eap.Id)
	}
	if what == "" {
		what = fmt.Sprintf("type %d", e.Type)
	}
	p.Summary = fmt.Sprintf("EAPOL %s > %s: %s, length %d", p.Src, p.Dst, what, p.Length)
}

func ipSummary(p *Packet, pk gopacket.Packet) {
	ver := "IP"
	switch ip := pk.NetworkLayer().(type) {
	case *layers.IPv4:
		p.Src, p.Dst, p.Proto = ip.SrcIP.String(), ip.DstIP.String(), "ip"
	case *layers.IPv6:
		p.Src, p.Dst, p.Proto, ver = ip.SrcIP.String(), ip.DstIP.String(), "ip6", "IP6"
	default:
		return
	}
	src, dst, what := p.Src, p.Dst, ""
	switch t := pk.TransportLayer().(type) {
	case *layers.UDP:
		p.Proto = "udp"
		src, dst = fmt.Sprintf("%s.%d", p.Src, t.SrcPort), fmt.Sprintf("%s.%d", p.Dst, t.DstPort)
		what = fmt.Sprintf("UDP, length %d", len(t.Payload))
		if d, ok := pk.Layer(layers.LayerTypeDHCPv4).(*layers.DHCPv4); ok {
			p.Proto, what = "dhcp", dhcpSummary(d, len(t.Payload))
		}
	case *layers.TCP:
		p.Proto = "tcp"
		src, dst = fmt.Sprintf("%s.%d", p.Src, t.SrcPort), fmt.Sprintf("%s.%d", p.Dst, t.DstPort)
		what = fmt.Sprintf("Flags [%s], seq %d, ack %d, length %d", tcpFlags(t), t.Seq, t.Ack, len(t.Payload))
	}
	if what == "" {
		what = icmpSummary(p, pk)
	}
	p.Summary = fmt.Sprintf("%s %s > %s: %s", ver, src, dst, what)
}

func icmpSummary(p *Packet, pk gopacket.Packet) string {
	if ic, ok := pk.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4); ok {
		p.Proto = "icmp"
		return fmt.Sprintf("ICMP %s, id %d, seq %d, length %d", ic.TypeCode.String(), ic.Id, ic.Seq, p.Length)
	}
	if ic, ok := pk.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6); ok {
		p.Proto = "icmp6"
		return fmt.Sprintf("ICMP6 %s, length %d", ic.TypeCode.String(), p.Length)
	}
	return fmt.Sprintf("%s, length %d", pk.NetworkLayer().LayerType(), p.Length)
}

func dhcpSummary(d *layers.DHCPv4, n int) string {
	kind := "BOOTP " + strings.ToLower(d.Operation.String())
	for _, o := range d.Options {
		if o.Type == layers.DHCPOptMessageType && len(o.Data) == 1 {
			kind = "DHCP" + strings.ToUpper(layers.DHCPMsgType(o.Data[0]).String())
		}
	}
	return fmt.Sprintf("%s, xid 0x%08x, length %d", kind, d.Xid, n)
}

func tcpFlags(t *layers.TCP) string {
	var b strings.Builder
	for _, f := range []struct {
		on bool
		c  byte
	}{{t.SYN, 'S'}, {t.FIN, 'F'}, {t.RST, 'R'}, {t.PSH, 'P'}, {t.ACK, '.'}, {t.URG, 'U'}} {
		if f.on {
			b.WriteByte(f.c)
		}
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

func ipString(b []byte) string {
	if len(b) == 4 {
		return fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], b[2], b[3])
	}
	return fmt.Sprintf("%x", b)
}

func macString(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

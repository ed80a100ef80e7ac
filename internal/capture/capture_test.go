package capture

import (
	"bytes"
	"io"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// fakeCapture is a Capture whose readers are the test: it feeds the
// merger events as real readers would, with each link's own stamps in
// order but the links' deliveries interleaved and delayed at random.
func fakeCapture(t *testing.T, names []string, out io.Writer, count int) *Capture {
	t.Helper()
	c := &Capture{opts: Options{Out: out, Count: count, Keep: 1 << 20, Snaplen: 262144},
		events: make(chan event, 16), stop: make(chan struct{}), done: make(chan struct{}),
		stats: make([]LinkStats, len(names))}
	for i, n := range names {
		c.targets = append(c.targets, Target{Name: n})
		c.srcs = append(c.srcs, &source{idx: i, target: c.targets[i], linkType: layers.LinkTypeEthernet})
		c.stats[i].Name = n
	}
	w, err := c.newWriter()
	if err != nil {
		t.Fatal(err)
	}
	go c.merge(w)
	return c
}

func ethFrame(t *testing.T, seq int) []byte {
	buf := gopacket.NewSerializeBuffer()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetType(0x88b5)}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, eth, gopacket.Payload([]byte{byte(seq >> 8), byte(seq)})); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A link whose reader lags far behind the others (here 300 ms, as under
// CPU starvation) still has its packets written in time order, because
// the others' packets wait for its watermark.
func TestMergeWritesInTimeOrder(t *testing.T) {
	names := []string{"a:eth0", "b:eth0", "c:br0"}
	var out bytes.Buffer
	c := fakeCapture(t, names, &out, 0)
	base := time.Now()
	const perLink = 300
	var wg sync.WaitGroup
	for src := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(src)))
			lag := time.Duration(src) * 150 * time.Millisecond
			ts := base
			for i := range perLink {
				ts = ts.Add(time.Duration(r.Intn(3000)) * time.Microsecond)
				for time.Since(ts) < lag { // the reader sees it late
					time.Sleep(time.Millisecond)
				}
				p := &pkt{src: src, ts: ts, data: ethFrame(t, i), wireLen: 16}
				c.events <- event{src: src, pkts: []*pkt{p}, mark: ts.Add(-markSlack)}
			}
			c.events <- event{src: src, done: true}
		}()
	}
	wg.Wait()
	<-c.done
	if c.OutOfOrder() != 0 {
		t.Errorf("%d packets out of order", c.OutOfOrder())
	}
	r, err := pcapgo.NewNgReader(&out, pcapgo.NgReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var stamps []time.Time
	perIface := map[int]int{}
	for {
		_, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		stamps = append(stamps, ci.Timestamp)
		perIface[ci.InterfaceIndex]++
	}
	for i, n := range names {
		intf, err := r.Interface(i)
		if err != nil || intf.Name != n || intf.LinkType != layers.LinkTypeEthernet {
			t.Errorf("interface %d: %+v, %v; want %s, Ethernet", i, intf.Name, err, n)
		}
		if perIface[i] != perLink {
			t.Errorf("interface %s: %d packets, want %d", n, perIface[i], perLink)
		}
	}
	if !sort.SliceIsSorted(stamps, func(i, j int) bool { return stamps[i].Before(stamps[j]) }) {
		t.Errorf("the file's %d packets are not in time order", len(stamps))
	}
}

// Count stops the capture after that many packets, in time order.
func TestMergeStopsAtCount(t *testing.T) {
	c := fakeCapture(t, []string{"a:eth0", "b:eth0"}, nil, 5)
	base := time.Now().Add(-time.Second)
	go func() {
		for i := range 20 {
			src := i % 2
			ts := base.Add(time.Duration(i) * time.Millisecond)
			c.events <- event{src: src, pkts: []*pkt{{src: src, ts: ts, data: ethFrame(t, i), wireLen: 16}}, mark: ts}
		}
		<-c.stop
		c.events <- event{src: 0, done: true}
		c.events <- event{src: 1, done: true}
	}()
	<-c.done
	if c.Count() != 5 || len(c.Packets()) != 5 {
		t.Fatalf("count %d, %d packets kept; want 5", c.Count(), len(c.Packets()))
	}
	for i, p := range c.Packets() {
		if want := base.Add(time.Duration(i) * time.Millisecond); !p.Time.Equal(want) {
			t.Errorf("packet %d at %v, want %v", i, p.Time, want)
		}
	}
}

func dhcpDiscover(t *testing.T) []byte {
	buf := gopacket.NewSerializeBuffer()
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 9}
	eth := &layers.Ethernet{SrcMAC: mac, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4zero, DstIP: net.IPv4bcast}
	udp := &layers.UDP{SrcPort: 68, DstPort: 67}
	udp.SetNetworkLayerForChecksum(ip)
	d := &layers.DHCPv4{Operation: layers.DHCPOpRequest, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6,
		Xid: 0x1a2b3c4d, ClientHWAddr: mac,
		Options: layers.DHCPOptions{layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(layers.DHCPMsgTypeDiscover)})}}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, udp, d); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func eapolStart(t *testing.T) []byte {
	buf := gopacket.NewSerializeBuffer()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 9}, DstMAC: net.HardwareAddr{1, 0x80, 0xc2, 0, 0, 3},
		EthernetType: layers.EthernetTypeEAPOL}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, eth, gopacket.Payload([]byte{2, 1, 0, 0})); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSummarize(t *testing.T) {
	now := time.Now()
	p := Summarize(dhcpDiscover(t), layers.LinkTypeEthernet, now, "c:eth0", 0)
	if p.Proto != "dhcp" || p.Src != "0.0.0.0" || p.Dst != "255.255.255.255" ||
		!strings.HasPrefix(p.Summary, "IP 0.0.0.0.68 > 255.255.255.255.67: DHCPDISCOVER, xid 0x1a2b3c4d") {
		t.Errorf("DHCP discover: %+v", p)
	}
	p = Summarize(eapolStart(t), layers.LinkTypeEthernet, now, "c:eth0", 0)
	if p.Proto != "eapol" || p.Summary != "EAPOL 02:00:00:00:00:09 > 01:80:c2:00:00:03: start, length 60" {
		t.Errorf("EAPOL start: %+v", p)
	}
	if line := p.Line(); !strings.Contains(line, " c:eth0 EAPOL ") {
		t.Errorf("line %q", line)
	}
}

// Filters are libpcap's: the acceptance filter of the 802.1X lab keeps
// EAPOL and nothing else; a typo is an error that says so.
func TestFilter(t *testing.T) {
	if !FiltersAvailable {
		if _, err := CompileFilter("arp", layers.LinkTypeEthernet, 262144); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
			t.Fatalf("pure build: %v", err)
		}
		t.Skip("built without cgo: filters are refused, as tested")
	}
	f, err := CompileFilter("ether proto 0x888e", layers.LinkTypeEthernet, 262144)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match(eapolStart(t)) || f.Match(dhcpDiscover(t)) {
		t.Errorf("ether proto 0x888e: EAPOL %v, DHCP %v", f.Match(eapolStart(t)), f.Match(dhcpDiscover(t)))
	}
	f, err = CompileFilter("udp port 67 and ether broadcast", layers.LinkTypeEthernet, 262144)
	if err != nil {
		t.Fatal(err)
	}
	if f.Match(eapolStart(t)) || !f.Match(dhcpDiscover(t)) {
		t.Errorf("udp port 67: EAPOL %v, DHCP %v", f.Match(eapolStart(t)), f.Match(dhcpDiscover(t)))
	}
	if _, err := CompileFilter("udp port", layers.LinkTypeEthernet, 262144); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("bad filter: %v", err)
	}
	if f, err := CompileFilter("  ", layers.LinkTypeEthernet, 262144); f != nil || err != nil {
		t.Errorf("empty filter: %v, %v", f, err)
	}
}

func TestCreateFileKeepsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "hosts")
	os.WriteFile(text, []byte("127.0.0.1 localhost\n"), 0o644)
	if _, err := CreateFile(text); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("overwrote a text file: %v", err)
	}
	if data, _ := os.ReadFile(text); string(data) != "127.0.0.1 localhost\n" {
		t.Errorf("text file changed: %q", data)
	}
	old := filepath.Join(dir, "old.pcapng")
	os.WriteFile(old, []byte{0x0a, 0x0d, 0x0d, 0x0a, 1, 2, 3}, 0o644)
	for _, path := range []string{old, filepath.Join(dir, "new.pcapng"), "/dev/null"} {
		f, err := CreateFile(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		f.Close()
	}
}

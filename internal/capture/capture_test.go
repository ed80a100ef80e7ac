package capture

import (
	"bytes"
	"io"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// fakeRing is a link whose packets become visible lag after their
// stamps (a reader that falls behind, or a ring block not yet retired).
type fakeRing struct {
	mu   sync.Mutex
	pkts []fakePkt
	lag  time.Duration
	end  bool // no more packets will be added
}

type fakePkt struct {
	ts   time.Time
	data []byte
}

// add queues a packet; a zero ts stamps it now, under the ring's lock, as
// the kernel does.
func (r *fakeRing) add(ts time.Time, data []byte) {
	r.mu.Lock()
	if ts.IsZero() {
		ts = time.Now()
	}
	r.pkts = append(r.pkts, fakePkt{ts, data})
	r.mu.Unlock()
}

func (r *fakeRing) finish() {
	r.mu.Lock()
	r.end = true
	r.mu.Unlock()
}

func (r *fakeRing) next() ([]byte, gopacket.CaptureInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pkts) == 0 || time.Since(r.pkts[0].ts) < r.lag {
		if r.end && len(r.pkts) == 0 {
			return nil, gopacket.CaptureInfo{}, io.EOF
		}
		return nil, gopacket.CaptureInfo{}, errEmpty
	}
	p := r.pkts[0]
	r.pkts = r.pkts[1:]
	return p.data, gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(p.data), Length: len(p.data)}, nil
}

func (r *fakeRing) pollFd() int      { return -1 }
func (r *fakeRing) stats() LinkStats { return LinkStats{} }
func (r *fakeRing) close()           {}

// fakeCapture is a Capture whose links are fake rings.
func fakeCapture(t *testing.T, names []string, lags []time.Duration, out io.Writer, count int) (*Capture, []*fakeRing) {
	t.Helper()
	c := newCapture(make([]Target, len(names)), Options{Out: out, Count: count, Keep: 1 << 20, Snaplen: 262144})
	var rings []*fakeRing
	for i, n := range names {
		c.targets[i] = Target{Name: n}
		r := &fakeRing{lag: lags[i]}
		rings = append(rings, r)
		c.rings = append(c.rings, r)
		c.linkTypes = append(c.linkTypes, layers.LinkTypeEthernet)
	}
	w, err := c.newWriter()
	if err != nil {
		t.Fatal(err)
	}
	go c.loop(w)
	return c, rings
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

// Three links, one of which shows its packets late, are written in time
// order: the others' packets wait for its watermark.
func TestMergeWritesInTimeOrder(t *testing.T) {
	names := []string{"a:eth0", "b:eth0", "c:br0"}
	var out bytes.Buffer
	// b and c show their packets late, as a ring does until its block is
	// retired (at most the block timeout after the packet).
	c, rings := fakeCapture(t, names, []time.Duration{0, 5 * time.Millisecond, blockTov}, &out, 0)
	const perLink = 300
	var wg sync.WaitGroup
	for src := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(src)))
			for i := range perLink {
				time.Sleep(time.Duration(r.Intn(2000)) * time.Microsecond)
				rings[src].add(time.Time{}, ethFrame(t, i))
			}
			rings[src].finish()
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
	c, rings := fakeCapture(t, []string{"a:eth0", "b:eth0"}, []time.Duration{0, 0}, nil, 5)
	base := time.Now().Add(-time.Second)
	for i := range 20 {
		rings[i%2].add(base.Add(time.Duration(i)*time.Millisecond), ethFrame(t, i))
	}
	rings[0].finish()
	rings[1].finish()
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

// A stop keeps the packets that came just before it, even those the ring
// shows only after its block timeout.
func TestStopKeepsTheLastPackets(t *testing.T) {
	c, rings := fakeCapture(t, []string{"a:eth0"}, []time.Duration{blockTov}, nil, 0)
	time.Sleep(50 * time.Millisecond)
	rings[0].add(time.Time{}, ethFrame(t, 1))
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if c.Count() != 1 {
		t.Errorf("%d packets written, want the one that came before the stop", c.Count())
	}
}

// countingWriter records the size of every write it gets.
type countingWriter struct {
	bytes.Buffer
	writes []int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, len(p))
	return w.Buffer.Write(p)
}

// The pcapng stream's writer gathers small writes and passes a large one
// on as it is, after what it held, keeping the order of the bytes.
func TestDirectWriter(t *testing.T) {
	out := &countingWriter{}
	d := &directWriter{w: out, buf: make([]byte, 0, 1<<16)}
	var want bytes.Buffer
	for _, n := range []int{28, 100, 60000, 12, 1400, 1400} {
		p := bytes.Repeat([]byte{byte(n)}, n)
		want.Write(p)
		if k, err := d.Write(p); k != n || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", n, k, err)
		}
	}
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want.Bytes()) {
		t.Fatalf("%d bytes out, not the %d written in order", out.Len(), want.Len())
	}
	if wantWrites := []int{128, 60000, 2812}; !slices.Equal(out.writes, wantWrites) {
		t.Errorf("writes of %v bytes, want %v", out.writes, wantWrites)
	}
}

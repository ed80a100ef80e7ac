package tc

import (
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

func TestParseUnits(t *testing.T) {
	s, err := Parse(map[string]string{"rate": "10mbit", "delay": "20ms", "jitter": "1.5ms", "loss": "1%",
		"duplicate": "0.5%", "corrupt": "0.1%", "reorder": "25%", "limit": "100", "burst": "32kb"})
	if err != nil {
		t.Fatal(err)
	}
	want := Shape{Rate: 10e6, Burst: 32768, Limit: 100, Delay: 20 * time.Millisecond, Jitter: 1500 * time.Microsecond,
		Loss: 1, Duplicate: 0.5, Corrupt: 0.1, Reorder: 25}
	if s != want {
		t.Fatalf("got %+v, want %+v", s, want)
	}
	for in, bits := range map[string]uint64{"1gbit": 1e9, "512kbit": 512e3, "1.5mbit": 1.5e6, "8bit": 8, "1mibit": 1 << 20, "10MBit": 10e6} {
		if got, err := ParseRate(in); err != nil || got != bits {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", in, got, err, bits)
		}
	}
	for in, d := range map[string]time.Duration{"250us": 250 * time.Microsecond, "1s": time.Second, "0.5s": 500 * time.Millisecond, "2 ms": 2 * time.Millisecond} {
		if got, err := ParseTime(in); err != nil || got != d {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, d)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		kv   map[string]string
		want string
	}{
		{map[string]string{"delay": "20"}, "delay: '20' has no unit; write 20ms"},
		{map[string]string{"rate": "10"}, "rate: '10' has no unit; write 10mbit"},
		{map[string]string{"rate": "10mbps"}, "tc reads it as bytes per second, 80mbit); write 10mbit"},
		{map[string]string{"loss": "0.01"}, "loss: '0.01' has no unit; write 0.01%"},
		{map[string]string{"loss": "101%"}, "over 100%"},
		{map[string]string{"loss": "-1%"}, "'-1%' is not a number"},
		{map[string]string{"delay": "20 parsecs"}, "unknown unit \"parsecs\""},
		{map[string]string{"delay": "1000s"}, "over 3m20s"},
		{map[string]string{"rate": "1bit"}, "below 8bit"},
		{map[string]string{"burst": "15k"}, "burst needs a rate"},
		{map[string]string{"jitter": "5ms"}, "jitter needs a delay"},
		{map[string]string{"reorder": "5%", "loss": "1%"}, "reorder needs a delay"},
		{map[string]string{"limit": "100"}, "limit needs a rate or a netem key"},
		{map[string]string{"limit": "1.5", "rate": "1mbit"}, "whole number of packets"},
		{map[string]string{"bandwidth": "1mbit"}, "bandwidth: unknown key (known: rate, burst"},
	} {
		_, err := Parse(c.kv)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%v) = %v, want an error with %q", c.kv, err, c.want)
		}
	}
}

// Every shape reads back, from the tree built for it, as what it was:
// what link:shape() returns is what the script set.
func TestTreeRoundTrip(t *testing.T) {
	for _, kv := range []map[string]string{
		{"rate": "10mbit"},
		{"rate": "1gbit", "burst": "64kb"},
		{"rate": "100kbit", "limit": "50"},
		{"rate": "40gbit"},
		{"delay": "100ms"},
		{"delay": "100ms", "jitter": "10ms", "limit": "200"},
		{"loss": "10%"},
		{"loss": "0.1%", "duplicate": "1%", "corrupt": "0.01%"},
		{"delay": "5ms", "reorder": "25%"},
		{"rate": "10mbit", "delay": "20ms", "loss": "1%"},
		{"rate": "20mbit", "delay": "1.5ms", "limit": "30", "burst": "20000b"},
	} {
		s, err := Parse(kv)
		if err != nil {
			t.Fatalf("Parse(%v): %v", kv, err)
		}
		tree := Build(s, 7, 1500)
		qs := []netlink.Qdisc{tree.Root}
		if tree.Child != nil {
			qs = append(qs, tree.Child)
		}
		back, ok := Read(qs, 1500)
		if !ok || back != s {
			t.Errorf("%v: read back %+v (ok %v), want %+v", kv, back, ok, s)
		}
		if m := back.Map(); !sameMap(m, kv) {
			t.Errorf("%v: Map() = %v", kv, m)
		}
	}
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The tree for each kind of table: tbf alone, netem alone, tbf over netem.
func TestTreeShape(t *testing.T) {
	rate := Build(Shape{Rate: 10e6}, 3, 1500)
	tbf, ok := rate.Root.(*netlink.Tbf)
	if !ok || rate.Child != nil || tbf.Parent != netlink.HANDLE_ROOT || tbf.Handle != TbfHandle || tbf.LinkIndex != 3 {
		t.Fatalf("rate only: %+v", rate)
	}
	if tbf.Rate != 1250000 || tbf.Limit != 125000+12500 {
		t.Errorf("rate only: tbf rate %d B/s limit %d B", tbf.Rate, tbf.Limit)
	}
	if b := burstBytes(10e6, tbf.Buffer); b != 12500 {
		t.Errorf("default burst at 10mbit: %d bytes, want 12500 (10 ms)", b)
	}
	if b := DefaultBurst(100e3, 1500); b != 2*1514 {
		t.Errorf("default burst at 100kbit: %d, want two frames", b)
	}
	delay := Build(Shape{Delay: 100 * time.Millisecond, Loss: 10}, 3, 1500)
	n, ok := delay.Root.(*netlink.Netem)
	if !ok || delay.Child != nil || n.Parent != netlink.HANDLE_ROOT || n.Handle != NetemHandle || n.Limit != 1000 {
		t.Fatalf("netem only: %+v", delay)
	}
	if n.Loss < 429496729-1 || n.Loss > 429496729+1 {
		t.Errorf("10%% loss is %d of 2^32", n.Loss)
	}
	both := Build(Shape{Rate: 10e6, Delay: time.Millisecond, Reorder: 5, Limit: 10}, 3, 9000)
	if both.Root.Type() != "tbf" || both.Child == nil || both.Child.Attrs().Parent != TbfHandle|1 {
		t.Fatalf("rate and delay: %+v", both)
	}
	if c := both.Child.(*netlink.Netem); c.Gap != 1 || c.Limit != 10 {
		t.Errorf("reorder: gap %d limit %d", c.Gap, c.Limit)
	}
	if l := both.Root.(*netlink.Tbf).Limit; l != 10*9014 {
		t.Errorf("tbf limit %d, want 10 jumbo frames", l)
	}
	if tree := Build(Shape{}, 3, 1500); tree.Root != nil {
		t.Errorf("empty shape builds %+v", tree)
	}
}

func TestReadForeign(t *testing.T) {
	if _, ok := Read([]netlink.Qdisc{&netlink.GenericQdisc{QdiscAttrs: netlink.QdiscAttrs{Parent: netlink.HANDLE_ROOT}, QdiscType: "noqueue"}}, 1500); ok {
		t.Error("noqueue read as a shape")
	}
	// a tbf made by tc (another handle, limit not nslua's default) reads too
	tbf := &netlink.Tbf{QdiscAttrs: netlink.QdiscAttrs{Handle: 0x10000, Parent: netlink.HANDLE_ROOT}, Rate: 125000, Buffer: burstTicks(1e6, 1600), Limit: 3000}
	s, ok := Read([]netlink.Qdisc{tbf}, 1500)
	if !ok || s.Rate != 1e6 || s.Limit != 2 || s.String() != "rate=1mbit burst=1600b limit=2" {
		t.Errorf("tc's tbf reads as %+v %q", s, s.String())
	}
	if Ours(tbf) {
		t.Error("tc's tbf counted as nslua's")
	}
}

// A netem that had corruption or reordering is made afresh when the new
// table drops them (a change would keep them), under the other handle.
func TestStaleNetem(t *testing.T) {
	cur := buildNetem(Shape{Delay: time.Millisecond, Corrupt: 1}, 2, netlink.QdiscAttrs{Handle: NetemHandle})
	if !stale(cur, buildNetem(Shape{Delay: time.Millisecond}, 2, netlink.QdiscAttrs{})) {
		t.Error("dropping corrupt is not stale")
	}
	if stale(cur, buildNetem(Shape{Delay: 2 * time.Millisecond, Corrupt: 2}, 2, netlink.QdiscAttrs{})) {
		t.Error("changing corrupt is stale")
	}
	reo := buildNetem(Shape{Delay: time.Millisecond, Reorder: 5}, 2, netlink.QdiscAttrs{})
	if !stale(reo, buildNetem(Shape{Delay: time.Millisecond, Loss: 1}, 2, netlink.QdiscAttrs{})) {
		t.Error("dropping reorder is not stale")
	}
	alt := &netlink.Netem{QdiscAttrs: netlink.QdiscAttrs{Handle: netemAlt}}
	if !Ours(alt) || HandleText(netemAlt) != "4e55:" || HandleText(TbfHandle) != "4e53:" {
		t.Errorf("alternate netem handle: ours %v, %s", Ours(alt), HandleText(netemAlt))
	}
	// reorder without a gap is what the kernel reports after a change dropped it
	s, _ := Read([]netlink.Qdisc{&netlink.Netem{QdiscAttrs: netlink.QdiscAttrs{Parent: netlink.HANDLE_ROOT}, Latency: ticks(time.Millisecond), ReorderProb: pct(5), Limit: 1000}}, 1500)
	if s.Reorder != 0 {
		t.Errorf("reorder without gap reads as %v%%", s.Reorder)
	}
}

package inspect

import (
	"encoding/binary"
	"testing"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// netconfBody is an RTM_NEWNETCONF body: struct netconfmsg, then attributes.
func netconfBody(attrs ...*nl.RtAttr) []byte {
	b := (&netconfMsg{family: unix.AF_INET6}).Serialize()
	for _, a := range attrs {
		b = append(b, a.Serialize()...)
	}
	return b
}

func u32(v int32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, uint32(v))
	return b
}

// The forwarding value is found among the other attributes, and its absence
// or a short body is told apart from a value of 0.
func TestNetconfForwarding(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		want int32
		ok   bool
	}{
		{"on", netconfBody(nl.NewRtAttr(netconfaIfindex, u32(netconfaIfindexAll)), nl.NewRtAttr(netconfaForwarding, u32(1))), 1, true},
		{"off", netconfBody(nl.NewRtAttr(netconfaForwarding, u32(0)), nl.NewRtAttr(3, u32(2))), 0, true},
		{"absent", netconfBody(nl.NewRtAttr(netconfaIfindex, u32(netconfaIfindexAll))), 0, false},
		{"short", []byte{unix.AF_INET}, 0, false},
	}
	for _, c := range cases {
		got, ok := netconfForwarding(c.body)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: netconfForwarding = %d, %v; want %d, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

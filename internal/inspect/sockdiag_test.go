package inspect

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDiagRequestLayout(t *testing.T) {
	b := (&diagRequest{family: unix.AF_INET6, protocol: unix.IPPROTO_UDP, states: 1 << udpUnconn}).Serialize()
	if len(b) != 56 || b[0] != unix.AF_INET6 || b[1] != unix.IPPROTO_UDP || binary.NativeEndian.Uint32(b[4:]) != 1<<7 {
		t.Fatalf("inet_diag_req_v2 = % x", b)
	}
}

func TestParseDiagReply(t *testing.T) {
	b := make([]byte, 72)
	b[0] = unix.AF_INET
	binary.BigEndian.PutUint16(b[4:], 67)
	copy(b[8:], []byte{10, 0, 0, 1})
	binary.NativeEndian.PutUint32(b[40:], 3)
	binary.NativeEndian.PutUint32(b[68:], 12345)
	s, err := parseDiag(b)
	if err != nil || s.local.String() != "10.0.0.1" || s.port != 67 || s.iface != 3 || s.inode != 12345 {
		t.Fatalf("parseDiag = %+v, %v", s, err)
	}
	if _, err := parseDiag(b[:71]); err == nil {
		t.Fatal("a short reply parsed")
	}
}

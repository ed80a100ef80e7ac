package inspect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// diagSocket is what a sock_diag reply says of one socket.
type diagSocket struct {
	local net.IP
	port  uint16
	iface int
	inode uint32
}

// diagRequest is struct inet_diag_req_v2 with a zero socket id: every
// socket of the family and protocol whose state is in states.
type diagRequest struct {
	family, protocol uint8
	states           uint32
}

func (r *diagRequest) Len() int { return 56 }

func (r *diagRequest) Serialize() []byte {
	b := make([]byte, r.Len())
	b[0], b[1] = r.family, r.protocol
	binary.NativeEndian.PutUint32(b[4:], r.states)
	return b
}

// diagDump asks for the sockets of one protocol and family in the given
// states only. Unlike netlink's SocketDiagTCP, which asks for every state,
// a request for LISTEN alone lets the kernel skip its established-socket
// hash table, which is shared by all namespaces and sized by the machine's
// memory: walking it costs milliseconds a namespace even when it is empty.
func diagDump(sock *nl.SocketHandle, protocol, family uint8, states uint32) ([]diagSocket, error) {
	req := nl.NewNetlinkRequest(nl.SOCK_DIAG_BY_FAMILY, unix.NLM_F_DUMP)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_INET_DIAG: sock}
	req.AddData(&diagRequest{family: family, protocol: protocol, states: states})
	msgs, err := req.Execute(unix.NETLINK_INET_DIAG, nl.SOCK_DIAG_BY_FAMILY)
	if err != nil {
		return nil, err
	}
	out := make([]diagSocket, 0, len(msgs))
	for _, m := range msgs {
		s, err := parseDiag(m)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// parseDiag reads struct inet_diag_msg.
func parseDiag(b []byte) (diagSocket, error) {
	if len(b) < 72 {
		return diagSocket{}, errors.New("sock_diag: short reply")
	}
	s := diagSocket{port: binary.BigEndian.Uint16(b[4:6])}
	if b[0] == unix.AF_INET6 {
		s.local = net.IP(append([]byte(nil), b[8:24]...))
	} else {
		s.local = net.IPv4(b[8], b[9], b[10], b[11])
	}
	s.iface = int(binary.NativeEndian.Uint32(b[40:44]))
	s.inode = binary.NativeEndian.Uint32(b[68:72])
	return s, nil
}

// openDiag makes a sock_diag socket; it must run on a thread inside the
// namespace to inspect.
func openDiag() (*nl.SocketHandle, error) {
	s, err := nl.GetNetlinkSocketAt(netns.None(), netns.None(), unix.NETLINK_INET_DIAG)
	if err != nil {
		return nil, fmt.Errorf("sock_diag socket: %w", err)
	}
	return &nl.SocketHandle{Socket: s}, nil
}

package inspect

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// ListensOn reports whether a socket of proto ("tcp" or "udp") waits for
// peers on port in the network namespace of the calling thread: a TCP
// socket in LISTEN, or a bound, unconnected UDP socket (how dnsmasq waits
// on 67), over IPv4 or IPv6. It is the query of listeningSockets, for one
// port, so that spawn's readiness and inspect agree on what "listens" means.
func ListensOn(proto string, port int) (bool, error) {
	protocol, state := uint8(unix.IPPROTO_TCP), uint32(tcpListen)
	switch proto {
	case "tcp":
	case "udp":
		protocol, state = unix.IPPROTO_UDP, udpUnconn
	default:
		return false, fmt.Errorf("protocol %q: want \"tcp\" or \"udp\"", proto)
	}
	sock, err := openDiag()
	if err != nil {
		return false, err
	}
	defer sock.Close()
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		socks, err := diagDump(sock, protocol, family, 1<<state)
		if err != nil {
			return false, fmt.Errorf("list %s sockets: %w", proto, err)
		}
		for _, s := range socks {
			if int(s.port) == port {
				return true, nil
			}
		}
	}
	return false, nil
}

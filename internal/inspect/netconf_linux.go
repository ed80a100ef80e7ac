package inspect

import (
	"encoding/binary"
	"strconv"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// The forwarding switches are read with RTM_GETNETCONF, as `ip netconf`
// does, not from /proc/sys/net. Every namespace registers its own
// /proc/sys/net/ipv4 and ipv6 directories under the one /proc/sys/net
// dentry, all hashed alike, so each path lookup there compares against
// the directories of every namespace on the machine (proc_sys_compare):
// reading two files from each of 1000 namespaces took 40 % of the CPU of
// an inspection.

// linux/netconf.h, which x/sys/unix lacks.
const (
	netconfaIfindex    = 1
	netconfaForwarding = 2
	netconfaIfindexAll = -1 // the "all" row: net.ipv4.ip_forward, net.ipv6.conf.all.forwarding
)

// netconfFamilies maps each family to the sysctl its "all" row's
// forwarding is.
var netconfFamilies = []struct {
	family uint8
	key    string
}{{unix.AF_INET, "net.ipv4.ip_forward"}, {unix.AF_INET6, "net.ipv6.conf.all.forwarding"}}

// netconfMsg is struct netconfmsg: the family, padded to 4 bytes.
type netconfMsg struct{ family uint8 }

func (m *netconfMsg) Len() int { return 4 }

func (m *netconfMsg) Serialize() []byte { return []byte{m.family, 0, 0, 0} }

// readForwarding reads the forwarding sysctls over sock, a NETLINK_ROUTE
// socket of the namespace. A family the kernel lacks (IPv6 disabled) is
// left out, as a missing /proc/sys file was.
func readForwarding(sock *nl.SocketHandle) map[string]string {
	m := make(map[string]string, len(netconfFamilies))
	for _, f := range netconfFamilies {
		req := nl.NewNetlinkRequest(unix.RTM_GETNETCONF, 0)
		req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: sock}
		req.AddData(&netconfMsg{family: f.family})
		idx := make([]byte, 4)
		all := int32(netconfaIfindexAll)
		binary.NativeEndian.PutUint32(idx, uint32(all))
		req.AddData(nl.NewRtAttr(netconfaIfindex, idx))
		msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWNETCONF)
		if err != nil || len(msgs) != 1 {
			continue
		}
		if v, ok := netconfForwarding(msgs[0]); ok {
			m[f.key] = strconv.Itoa(int(v))
		}
	}
	return m
}

// netconfForwarding finds NETCONFA_FORWARDING in an RTM_NEWNETCONF body.
func netconfForwarding(b []byte) (int32, bool) {
	if len(b) < 4 {
		return 0, false
	}
	attrs, err := nl.ParseRouteAttr(b[4:])
	if err != nil {
		return 0, false
	}
	for _, a := range attrs {
		if a.Attr.Type == netconfaForwarding && len(a.Value) >= 4 {
			return int32(binary.NativeEndian.Uint32(a.Value)), true
		}
	}
	return 0, false
}

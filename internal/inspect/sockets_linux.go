package inspect

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Kernel socket states (include/net/tcp_states.h): a TCP socket that
// listens, and a UDP socket that is bound but not connected, which is how
// a UDP server (dnsmasq on port 67) waits.
const (
	tcpListen = 10
	udpUnconn = 7
)

// listeningSockets lists, by sock_diag as `ss -ltun` does, the sockets
// that wait for peers.
func (s *snapshot) listeningSockets() ([]Socket, map[uint32]int, error) {
	out := []Socket{}
	for _, q := range []struct {
		proto    string
		protocol uint8
		state    uint32
	}{{"tcp", unix.IPPROTO_TCP, tcpListen}, {"udp", unix.IPPROTO_UDP, udpUnconn}} {
		for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
			socks, err := diagDump(s.diag, q.protocol, family, 1<<q.state)
			if err != nil {
				return nil, nil, fmt.Errorf("list %s sockets in %s: %w", q.proto, s.path, err)
			}
			for _, so := range socks {
				out = append(out, Socket{Proto: q.proto, Local: net.JoinHostPort(so.local.String(), strconv.Itoa(int(so.port))),
					Iface: s.linkName(so.iface), PIDs: []int{}, inode: so.inode})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return socketLess(out[i], out[j]) })
	byInode := make(map[uint32]int, len(out))
	for i := range out {
		byInode[out[i].inode] = i
	}
	return out, byInode, nil
}

func socketLess(a, b Socket) bool {
	if a.Proto != b.Proto {
		return a.Proto < b.Proto
	}
	return a.Local < b.Local
}

// ownSockets finds which of pids hold each socket, by the socket:[INODE]
// links in /proc/PID/fd, as `ss -p` does.
func ownSockets(socks []Socket, byInode map[uint32]int, pids []int) {
	if len(socks) == 0 {
		return
	}
	for _, pid := range pids {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		d, err := os.Open(dir)
		if err != nil {
			continue // gone, or a kernel thread
		}
		fds, _ := d.Readdirnames(-1)
		d.Close()
		for _, fd := range fds {
			target, err := os.Readlink(dir + "/" + fd)
			if err != nil || !strings.HasPrefix(target, "socket:[") {
				continue
			}
			ino, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]"), 10, 32)
			if i, ok := byInode[uint32(ino)]; ok && err == nil && !hasPID(socks[i].PIDs, pid) {
				socks[i].PIDs = append(socks[i].PIDs, pid)
			}
		}
	}
}

func hasPID(pids []int, pid int) bool {
	for _, p := range pids {
		if p == pid {
			return true
		}
	}
	return false
}

package inspect

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Kernel socket states (include/net/tcp_states.h): a TCP socket that
// listens, and a UDP socket that is bound but not connected, which is how
// a UDP server (dnsmasq on port 67) waits.
const (
	tcpListen = 10
	udpUnconn = 7
)

// listeningSockets dumps the namespace's TCP and UDP sockets by sock_diag,
// as `ss -ltun` does, and keeps those that wait for peers.
func (s *snapshot) listeningSockets() ([]Socket, map[uint32]int, error) {
	out := []Socket{}
	byInode := map[uint32]int{}
	for _, q := range []struct {
		proto string
		state uint8
		dump  func(uint8) ([]*netlink.Socket, error)
	}{{"tcp", tcpListen, s.diag.SocketDiagTCP}, {"udp", udpUnconn, s.diag.SocketDiagUDP}} {
		for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
			socks, err := dump("list "+q.proto+" sockets", s.path, func() ([]*netlink.Socket, error) { return q.dump(family) })
			if err != nil {
				return nil, nil, err
			}
			for _, so := range socks {
				if so.State != q.state {
					continue
				}
				out = append(out, Socket{Proto: q.proto, Local: net.JoinHostPort(so.ID.Source.String(), strconv.Itoa(int(so.ID.SourcePort))),
					Iface: s.linkName(int(so.ID.Interface)), PIDs: []int{}, inode: so.INode})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return socketLess(out[i], out[j]) })
	for i := range out { // sorting moved them
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

package remote

import (
	"fmt"
	"net"
	"strings"

	"github.com/vishvananda/netlink"
)

// VxlanOverhead is what VXLAN over IPv4 adds to a frame (outer IP 20, UDP
// 8, VXLAN 8, inner Ethernet 14): a cross-host link's MTU is the
// underlay's minus this.
const VxlanOverhead = 50

// Underlay finds, in this process's network namespace, how to reach peer:
// the device (dev, when given, else the one the route goes out of), the
// source address toward peer and the device's MTU.
func Underlay(peer, dev string) (string, string, int, error) {
	ip := net.ParseIP(peer)
	if ip == nil {
		return "", "", 0, fmt.Errorf("underlay: peer %q is not an IP address", peer)
	}
	routes, err := netlink.RouteGet(ip)
	if err != nil || len(routes) == 0 {
		return "", "", 0, fmt.Errorf("underlay: no route to %s: %v", peer, err)
	}
	var l netlink.Link
	if dev != "" {
		l, err = netlink.LinkByName(dev)
	} else {
		l, err = netlink.LinkByIndex(routes[0].LinkIndex)
	}
	if err != nil {
		return "", "", 0, fmt.Errorf("underlay device %s: %w", dev, err)
	}
	local := ""
	if routes[0].Src != nil {
		local = routes[0].Src.String()
	}
	return l.Attrs().Name, local, l.Attrs().MTU, nil
}

// SSHConnection splits $SSH_CONNECTION ("client port server port") into
// the controller's address as the host sees it and the host's own.
func SSHConnection(v string) (client, server string, ok bool) {
	f := strings.Fields(v)
	if len(f) != 4 {
		return "", "", false
	}
	return f[0], f[2], true
}

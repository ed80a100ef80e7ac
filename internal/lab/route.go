package lab

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Route is what n:route adds.
type Route struct {
	Dst    string // CIDR, or "default"
	Via    string // gateway address, optional when Dev is given
	Dev    string
	Metric int
	Table  int // 0: main
}

// AddRoute: `ip route add DST via VIA dev DEV metric M`.
func (n *Netns) AddRoute(r Route) error {
	spec, err := n.routeSpec(r)
	if err != nil {
		return err
	}
	h, err := n.handle()
	if err != nil {
		return err
	}
	if err := h.RouteAdd(spec); err != nil {
		return routeErr(n, r, err)
	}
	return nil
}

func routeErr(n *Netns, r Route, err error) error {
	what := fmt.Sprintf("route %s", r.Dst)
	if r.Via != "" {
		what += " via " + r.Via
	}
	if r.Table != 0 {
		what += fmt.Sprintf(" table %d", r.Table)
	}
	switch {
	case errors.Is(err, unix.ENETUNREACH), errors.Is(err, unix.EHOSTUNREACH): // IPv4, IPv6
		return fmt.Errorf("%s in %s: gateway %s is not on any connected network there", what, n.Name, r.Via)
	case errors.Is(err, unix.EEXIST):
		return fmt.Errorf("%s in %s: such a route %w", what, n.Name, ErrExists)
	}
	return fmt.Errorf("%s in %s: %w", what, n.Name, err)
}

func (n *Netns) routeSpec(r Route) (*netlink.Route, error) {
	if r.Via == "" && r.Dev == "" {
		return nil, errors.New("route needs a gateway (via) or a device (dev)")
	}
	if r.Table < 0 || r.Table > 1<<32-1 {
		return nil, fmt.Errorf("table %d is out of range", r.Table)
	}
	if r.Metric < 0 {
		return nil, fmt.Errorf("metric %d is negative", r.Metric)
	}
	spec := &netlink.Route{Priority: r.Metric, Table: r.Table}
	var gw net.IP
	if r.Via != "" {
		if gw = net.ParseIP(r.Via); gw == nil {
			return nil, fmt.Errorf("gateway %q is not an IP address", r.Via)
		}
		spec.Gw = gw
	}
	dst, err := parseDst(r.Dst, gw)
	if err != nil {
		return nil, err
	}
	spec.Dst = dst
	if gw != nil && (gw.To4() == nil) != (dst.IP.To4() == nil) {
		return nil, fmt.Errorf("gateway %s and destination %s are of different IP versions", r.Via, r.Dst)
	}
	if gw == nil {
		spec.Scope = netlink.SCOPE_LINK // as ip does for a route with no gateway
	}
	if r.Dev != "" {
		link, err := n.Link(r.Dev)
		if err != nil {
			return nil, err
		}
		spec.LinkIndex = link.Index
	}
	return spec, nil
}

// parseDst reads a destination; "default" takes the family of the gateway.
func parseDst(dst string, gw net.IP) (*net.IPNet, error) {
	if dst == "default" {
		if gw != nil && gw.To4() == nil {
			return &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}, nil
		}
		return &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, nil
	}
	if !strings.Contains(dst, "/") {
		if ip := net.ParseIP(dst); ip != nil {
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
		}
	}
	_, ipnet, err := net.ParseCIDR(dst)
	if err != nil {
		return nil, fmt.Errorf("destination %q is neither \"default\" nor a prefix (e.g. 10.2.0.0/24)", dst)
	}
	return ipnet, nil
}

package inspect

import (
	"fmt"
	"net"
	"sort"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/wgctrl"

	"github.com/nslua/nslua/internal/nsfs"
)

// linkDetails are a link's kind parameters (VNI, VLAN id, remote, table,
// mode...) and its lower link, as `ip -d link` shows them.
func (s *snapshot) linkDetails(l netlink.Link) (parent string, params map[string]any) {
	parent = s.lowerLink(l)
	p := map[string]any{}
	switch l := l.(type) {
	case *netlink.Vxlan:
		s.vxlanParams(l, p)
	case *netlink.Vlan:
		p["id"], p["protocol"] = l.VlanId, l.VlanProtocol.String()
	case *netlink.Macvlan:
		p["mode"] = macvlanMode(l.Mode)
	case *netlink.Vrf:
		p["table"] = int(l.Table)
	case *netlink.Gretap:
		greParams(l.Local, l.Remote, l.IKey, p)
	case *netlink.Gretun:
		greParams(l.Local, l.Remote, l.IKey, p)
	case *netlink.Tuntap:
		p["mode"] = l.Mode.String()
	case *netlink.Wireguard:
		s.wireguardParams(l.Attrs().Name, p)
	}
	if len(p) == 0 {
		return parent, nil
	}
	return parent, p
}

// lowerLink names the link a macvlan or VLAN sits on ("ifN" when it is in
// another namespace); a veth's IFLA_LINK is its peer, shown as such.
func (s *snapshot) lowerLink(l netlink.Link) string {
	switch l.(type) {
	case *netlink.Macvlan, *netlink.Macvtap, *netlink.Vlan, *netlink.IPVlan:
	default:
		return ""
	}
	a := l.Attrs()
	if a.ParentIndex == 0 {
		return ""
	}
	parent := s.linkName(a.ParentIndex)
	if a.NetNsID >= 0 || parent == "" {
		parent = fmt.Sprintf("if%d", a.ParentIndex)
	}
	return parent
}

func setIP(p map[string]any, k string, ip net.IP) {
	if ip != nil && !ip.IsUnspecified() {
		p[k] = ip.String()
	}
}

func (s *snapshot) vxlanParams(l *netlink.Vxlan, p map[string]any) {
	p["vni"], p["port"], p["learning"] = l.VxlanId, l.Port, l.Learning
	if l.Group != nil && l.Group.IsMulticast() {
		setIP(p, "group", l.Group)
	} else {
		setIP(p, "remote", l.Group)
	}
	setIP(p, "local", l.SrcAddr)
	if l.VtepDevIndex != 0 {
		p["dev"] = s.linkName(l.VtepDevIndex)
	}
	if fdb := s.vxlanRemotes(l.Index); len(fdb) > 0 {
		p["fdb"] = fdb
	}
}

func greParams(local, remote net.IP, key uint32, p map[string]any) {
	setIP(p, "local", local)
	setIP(p, "remote", remote)
	if key != 0 {
		p["key"] = int(key)
	}
}

// wireguardParams reads a WireGuard link's port, public key and peers
// over its generic netlink family, from a thread inside the namespace.
func (s *snapshot) wireguardParams(name string, p map[string]any) {
	nsfs.Do(s.fd, func() error {
		c, err := wgctrl.New()
		if err != nil {
			return err
		}
		defer c.Close()
		d, err := c.Device(name)
		if err != nil {
			return err
		}
		p["listen_port"] = d.ListenPort
		p["public_key"] = d.PublicKey.String()
		peers := []string{}
		for _, peer := range d.Peers {
			text := peer.PublicKey.String()
			if peer.Endpoint != nil {
				text += " endpoint " + peer.Endpoint.String()
			}
			for _, ip := range peer.AllowedIPs {
				text += " allowed " + ip.String()
			}
			peers = append(peers, text)
		}
		p["peers"] = peers
		return nil
	})
}

// vxlanRemotes are the destinations of a VXLAN link's static FDB entries,
// as "MAC dst IP" (`bridge fdb show dev NAME`).
func (s *snapshot) vxlanRemotes(index int) []string {
	neighs, err := s.h.NeighList(index, unix.AF_BRIDGE)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range neighs {
		if n.IP != nil && n.State&netlink.NUD_PERMANENT != 0 {
			out = append(out, n.HardwareAddr.String()+" dst "+n.IP.String())
		}
	}
	sort.Strings(out)
	return out
}

func macvlanMode(m netlink.MacvlanMode) string {
	switch m {
	case netlink.MACVLAN_MODE_PRIVATE:
		return "private"
	case netlink.MACVLAN_MODE_VEPA:
		return "vepa"
	case netlink.MACVLAN_MODE_BRIDGE:
		return "bridge"
	case netlink.MACVLAN_MODE_PASSTHRU:
		return "passthru"
	case netlink.MACVLAN_MODE_SOURCE:
		return "source"
	}
	return "default"
}

// tableName is a routing table as `ip route` names it.
func tableName(t int) string {
	switch t {
	case unix.RT_TABLE_MAIN, 0:
		return "main"
	case unix.RT_TABLE_DEFAULT:
		return "default"
	case unix.RT_TABLE_LOCAL:
		return "local"
	}
	return fmt.Sprint(t)
}

// listRules dumps the policy-routing rules, minus the kernel's defaults
// (local, main, default), which every namespace has.
func (s *snapshot) listRules() ([]Rule, error) {
	rules, err := dump("list rules", s.path, func() ([]netlink.Rule, error) {
		return s.h.RuleList(netlink.FAMILY_ALL)
	})
	if err != nil {
		return nil, err
	}
	out := []Rule{}
	for _, r := range rules {
		if defaultRule(r) || r.Family != unix.AF_INET && r.Family != unix.AF_INET6 {
			continue // the defaults, and multicast routing's rules
		}
		out = append(out, s.makeRule(r))
	}
	return out, nil
}

func defaultRule(r netlink.Rule) bool {
	plain := r.Src == nil && r.Dst == nil && r.IifName == "" && r.OifName == "" && r.Mark == 0 && !r.Invert
	return plain && (r.Priority == 0 && r.Table == unix.RT_TABLE_LOCAL ||
		r.Priority == 32766 && r.Table == unix.RT_TABLE_MAIN ||
		r.Priority == 32767 && r.Table == unix.RT_TABLE_DEFAULT)
}

func (s *snapshot) makeRule(r netlink.Rule) Rule {
	out := Rule{Priority: r.Priority, Table: tableName(r.Table), Iif: r.IifName, Oif: r.OifName, Family: "inet"}
	if r.Family == unix.AF_INET6 {
		out.Family = "inet6"
	}
	if r.Src != nil {
		out.From = r.Src.String()
	}
	if r.Dst != nil {
		out.To = r.Dst.String()
	}
	if r.Mark != 0 {
		out.Fwmark = int(r.Mark)
	}
	return out
}

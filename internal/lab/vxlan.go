package lab

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// VxlanOptions are vxlan's parameters.
type VxlanOptions struct {
	VNI      int
	Remote   string   // unicast peer: flooded frames go there
	Group    string   // multicast group (needs Dev)
	Local    string   // source address of the tunnel
	Dev      string   // underlay link in the namespace
	Port     int      // UDP port; 0 is the IANA port 4789
	Learning *bool    // learn remote MACs from traffic (default on)
	Remotes  []string // more peers: all-zero FDB entries appended
	TTL      int
}

// Vxlan creates a VXLAN link: `ip link add NAME type vxlan id VNI remote R
// local L dev D dstport P`, then `bridge fdb append 00:00:00:00:00:00 dev
// NAME dst IP` for each of Remotes (head-end replication without multicast).
func (n *Netns) Vxlan(name string, v VxlanOptions, o LinkOptions) (*Link, error) {
	spec, err := n.vxlanSpec(name, v)
	if err != nil {
		return nil, err
	}
	remotes := make([]net.IP, len(v.Remotes))
	for i, r := range v.Remotes {
		if remotes[i], err = parseIP("remote", r); err != nil {
			return nil, fmt.Errorf("vxlan %q: remotes: %w", name, err)
		}
	}
	k, err := n.addLink("vxlan", spec, o)
	if err != nil {
		return nil, err
	}
	for _, ip := range remotes {
		if err := k.AddFDB("", ip.String()); err != nil {
			k.Delete()
			return nil, err
		}
	}
	return k, nil
}

func (n *Netns) vxlanSpec(name string, v VxlanOptions) (*netlink.Vxlan, error) {
	bad := func(format string, args ...any) (*netlink.Vxlan, error) {
		return nil, fmt.Errorf("vxlan %q: "+format, append([]any{name}, args...)...)
	}
	if v.VNI < 0 || v.VNI > 1<<24-1 {
		return bad("vni %d is out of range (0..16777215)", v.VNI)
	}
	if v.Remote != "" && v.Group != "" {
		return bad("give remote or group, not both")
	}
	if v.Port < 0 || v.Port > 65535 {
		return bad("port %d is out of range", v.Port)
	}
	spec := &netlink.Vxlan{LinkAttrs: newAttrs(name), VxlanId: v.VNI, Port: v.Port, Learning: true, TTL: v.TTL}
	if spec.Port == 0 {
		spec.Port = 4789
	}
	if v.Learning != nil {
		spec.Learning = *v.Learning
	}
	var err error
	if spec.SrcAddr, err = parseIP("local", v.Local); err != nil {
		return bad("%v", err)
	}
	if spec.Group, err = parseIP("remote", v.Remote); err != nil {
		return bad("%v", err)
	}
	if v.Group != "" {
		if spec.Group, err = parseIP("group", v.Group); err != nil {
			return bad("%v", err)
		}
		if !spec.Group.IsMulticast() {
			return bad("group %s is not a multicast address", v.Group)
		}
		if v.Dev == "" {
			return bad("a multicast group needs dev (the underlay link)")
		}
	}
	if v.Dev != "" {
		dev, err := n.Link(v.Dev)
		if err != nil {
			return bad("dev: %v", err)
		}
		spec.VtepDevIndex = dev.Index
	}
	return spec, nil
}

// AddFDB appends a forwarding entry to a VXLAN link: frames for mac ("" is
// 00:00:00:00:00:00, every unknown or flooded frame) go to the VTEP dst:
// `bridge fdb append MAC dev NAME dst DST`.
func (k *Link) AddFDB(mac, dst string) error {
	if k.Kind != "vxlan" {
		return fmt.Errorf("fdb on %s: it is a %s, not a vxlan", k.Name, k.Kind)
	}
	hw := net.HardwareAddr(make([]byte, 6))
	if mac != "" {
		var err error
		if hw, err = parseMAC(mac); err != nil {
			return err
		}
	}
	ip, err := parseIP("dst", dst)
	if err != nil || ip == nil {
		return fmt.Errorf("fdb on %s: dst %q is not an IP address", k.Name, dst)
	}
	h, err := k.handle()
	if err != nil {
		return err
	}
	neigh := &netlink.Neigh{LinkIndex: k.Index, Family: unix.AF_BRIDGE, State: netlink.NUD_PERMANENT | netlink.NUD_NOARP,
		Flags: netlink.NTF_SELF, IP: ip, HardwareAddr: hw}
	if err := h.NeighAppend(neigh); err != nil {
		return fmt.Errorf("fdb %s dst %s on %s in %s: %w", hw, dst, k.Name, k.NS.Name, err)
	}
	return nil
}

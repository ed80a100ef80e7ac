package lab

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"unicode"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/inspect"
	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/sys"
)

// Link is a network interface in a namespace.
type Link struct {
	NS    *Netns
	Name  string
	Index int
	Kind  string
}

func (k *Link) String() string {
	return fmt.Sprintf("Link(%s in %s, index %d, %s)", k.Name, k.NS.Name, k.Index, k.Kind)
}

// ValidateIfName applies the kernel's rules for interface names.
func ValidateIfName(name string) error {
	switch {
	case name == "":
		return errors.New("interface name is empty")
	case len(name) > 15:
		return fmt.Errorf("interface name %q is %d bytes, the limit is 15", name, len(name))
	case name == "." || name == "..":
		return fmt.Errorf("interface name %q is reserved", name)
	}
	for _, r := range name {
		if r == '/' || r == ':' || unicode.IsSpace(r) || r == 0 {
			return fmt.Errorf("interface name %q contains %q", name, r)
		}
	}
	// The kernel reads "%d" as a template ("eth%d" becomes eth0): the link
	// would get a name other than the one asked for.
	if strings.Contains(name, "%") {
		return fmt.Errorf("interface name %q contains '%%' (the kernel would take it as a name template)", name)
	}
	return nil
}

// ParseCIDR accepts "10.0.0.1/24" and "fd00::1/64".
func ParseCIDR(s string) (*net.IPNet, error) {
	ip, ipnet, err := net.ParseCIDR(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not an address with a prefix length (e.g. 10.0.0.1/24)", s)
	}
	ipnet.IP = ip
	if v4 := ip.To4(); v4 != nil {
		ipnet.IP = v4
	}
	return ipnet, nil
}

func wrapLink(n *Netns, l netlink.Link) *Link {
	return &Link{NS: n, Name: l.Attrs().Name, Index: l.Attrs().Index, Kind: inspect.LinkKind(l)}
}

// journalLink records a link that will live in a namespace the lab did not
// create (there it would outlive the lab unless removed).
func (n *Netns) journalLink(name string) (*journal.Entry, error) {
	if n.owned {
		return nil, nil
	}
	return n.journalLinkAlways(name)
}

// journalLinkAlways records a link wherever it lives.
func (n *Netns) journalLinkAlways(name string) (*journal.Entry, error) {
	nsPath := n.Path
	if n.host {
		nsPath = ""
	}
	return n.lab.j.Add(journal.Entry{Kind: journal.KindLink, Name: name, NsPath: nsPath, NsIno: n.Inode})
}

func (n *Netns) linkDone(e *journal.Entry, index int, err error) {
	if e == nil {
		return
	}
	if err != nil {
		n.lab.j.Gone(e)
		return
	}
	e.Index = index
	n.lab.j.Done(e)
}

// taken reports, for an error message, whether a name is in use.
func (n *Netns) taken(name string) bool {
	h, err := n.handle()
	if err != nil {
		return false
	}
	_, err = h.LinkByName(name)
	return err == nil
}

func (n *Netns) linkErr(op, name string, err error) error {
	if errors.Is(err, unix.EEXIST) && n.taken(name) {
		return fmt.Errorf("%s %s: a link named %s %w in %s", op, name, name, ErrExists, n.Name)
	}
	return fmt.Errorf("%s %s in %s: %w", op, name, n.Name, err)
}

func parseMAC(s string) (net.HardwareAddr, error) {
	mac, err := net.ParseMAC(s)
	if err != nil || len(mac) != 6 {
		return nil, fmt.Errorf("%q is not a MAC address (e.g. 02:00:00:00:00:01)", s)
	}
	return mac, nil
}

func (k *Link) netlinkLink() netlink.Link {
	return &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: k.Index, Name: k.Name}}
}

// Link finds an existing interface by name.
func (n *Netns) Link(name string) (*Link, error) {
	if err := ValidateIfName(name); err != nil {
		return nil, err
	}
	h, err := n.handle()
	if err != nil {
		return nil, err
	}
	l, err := h.LinkByName(name)
	if err != nil {
		return nil, &NotFoundError{"link", name, n.Name}
	}
	return wrapLink(n, l), nil
}

// Links lists the namespace's interfaces.
func (n *Netns) Links() ([]*Link, error) {
	h, err := n.handle()
	if err != nil {
		return nil, err
	}
	ls, err := sys.Dump("list links", "in "+n.Name, h.LinkList)
	if err != nil {
		return nil, err
	}
	out := make([]*Link, len(ls))
	for i, l := range ls {
		out[i] = wrapLink(n, l)
	}
	return out, nil
}

func (k *Link) handle() (*netlink.Handle, error) { return k.NS.handle() }

// SetUp: `ip link set NAME up` (or down).
func (k *Link) SetUp(up bool) error {
	h, err := k.handle()
	if err != nil {
		return err
	}
	if up {
		err = h.LinkSetUp(k.netlinkLink())
	} else {
		err = h.LinkSetDown(k.netlinkLink())
	}
	if err != nil {
		return fmt.Errorf("set %s in %s %s: %w", k.Name, k.NS.Name, map[bool]string{true: "up", false: "down"}[up], err)
	}
	return nil
}

// Attrs re-reads the link from the kernel.
func (k *Link) Attrs() (*netlink.LinkAttrs, error) {
	h, err := k.handle()
	if err != nil {
		return nil, err
	}
	l, err := h.LinkByIndex(k.Index)
	if err != nil {
		return nil, fmt.Errorf("link %s in %s is gone", k.Name, k.NS.Name)
	}
	return l.Attrs(), nil
}

// SetMTU: `ip link set NAME mtu N`.
func (k *Link) SetMTU(mtu int) error {
	if mtu < 68 || mtu > 65535 {
		return fmt.Errorf("mtu %d is out of range (68..65535)", mtu)
	}
	h, err := k.handle()
	if err != nil {
		return err
	}
	if err := h.LinkSetMTU(k.netlinkLink(), mtu); err != nil {
		return fmt.Errorf("set mtu of %s in %s: %w", k.Name, k.NS.Name, err)
	}
	return nil
}

// SetMAC: `ip link set NAME address MAC`.
func (k *Link) SetMAC(s string) error {
	mac, err := parseMAC(s)
	if err != nil {
		return err
	}
	h, err := k.handle()
	if err != nil {
		return err
	}
	if err := h.LinkSetHardwareAddr(k.netlinkLink(), mac); err != nil {
		return fmt.Errorf("set mac of %s in %s: %w", k.Name, k.NS.Name, err)
	}
	return nil
}

// SetMaster enslaves the link to a bridge (`ip link set NAME master BR`),
// or releases it when br is nil (`nomaster`).
func (k *Link) SetMaster(br *Link) error {
	h, err := k.handle()
	if err != nil {
		return err
	}
	if br == nil {
		err = h.LinkSetNoMaster(k.netlinkLink())
	} else {
		if br.NS != k.NS {
			return fmt.Errorf("bridge %s is in %s, link %s in %s: a master must be in the same namespace", br.Name, br.NS.Name, k.Name, k.NS.Name)
		}
		err = h.LinkSetMasterByIndex(k.netlinkLink(), br.Index)
	}
	if err != nil {
		return fmt.Errorf("set master of %s in %s: %w", k.Name, k.NS.Name, err)
	}
	return nil
}

// Move moves the link to another namespace, optionally renaming it:
// `ip link set NAME netns NS name NEW`, one request, so that the new name
// only has to be free at the destination. Its addresses do not follow.
func (k *Link) Move(to *Netns, newName string) error {
	if newName == "" {
		newName = k.Name
	}
	if err := ValidateIfName(newName); err != nil {
		return err
	}
	if _, err := k.handle(); err != nil {
		return err
	}
	th, err := to.handle()
	if err != nil {
		return err
	}
	if to == k.NS {
		return k.rename(newName)
	}
	if to.taken(newName) {
		return fmt.Errorf("move %s to %s: a link named %s %w there", k.Name, to.Name, newName, ErrExists)
	}
	// A link the journal tracks stays tracked where it goes: teardown then
	// deletes it (and a veth's peer with it) before the namespaces go,
	// rather than leaving the peer to the kernel's asynchronous cleanup.
	old := k.NS.linkEntry(k.Name, k.Index)
	var e *journal.Entry
	if old != nil {
		e, err = to.journalLinkAlways(newName)
	} else {
		e, err = to.journalLink(newName)
	}
	if err != nil {
		return err
	}
	if err := k.moveRequest(to, newName); err != nil {
		to.linkDone(e, 0, err)
		return err
	}
	l, err := th.LinkByName(newName)
	if err != nil {
		to.linkDone(e, 0, err)
		return fmt.Errorf("find %s in %s after the move: %w", newName, to.Name, err)
	}
	to.linkDone(e, l.Attrs().Index, nil)
	if old != nil {
		k.NS.lab.j.Gone(old)
	}
	k.NS, k.Name, k.Index = to, newName, l.Attrs().Index
	return nil
}

func (k *Link) moveRequest(to *Netns, newName string) error {
	toFd, err := to.Fd()
	if err != nil {
		return err
	}
	err = k.rawRequest(unix.RTM_NEWLINK, unix.AF_UNSPEC, func(req *nl.NetlinkRequest) {
		req.AddData(nl.NewRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(toFd))))
		if newName != k.Name {
			req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(newName)))
		}
	})
	if err != nil {
		return fmt.Errorf("move %s to %s as %s: %w", k.Name, to.Name, newName, err)
	}
	return nil
}

// rename: `ip link set NAME name NEW`, within the link's namespace.
func (k *Link) rename(newName string) error {
	if newName == k.Name {
		return nil
	}
	h, err := k.handle()
	if err != nil {
		return err
	}
	if k.NS.taken(newName) {
		return fmt.Errorf("rename %s: a link named %s %w in %s", k.Name, newName, ErrExists, k.NS.Name)
	}
	// teardown finds a journaled link by name: journal the new one first
	old := k.NS.linkEntry(k.Name, k.Index)
	var e *journal.Entry
	if old != nil {
		if e, err = k.NS.journalLinkAlways(newName); err != nil {
			return err
		}
	}
	err = h.LinkSetName(k.netlinkLink(), newName)
	k.NS.linkDone(e, k.Index, err)
	if err != nil {
		return fmt.Errorf("rename %s to %s in %s: %w", k.Name, newName, k.NS.Name, err)
	}
	if old != nil {
		k.NS.lab.j.Gone(old)
	}
	k.Name = newName
	return nil
}

// Delete: `ip link del NAME`.
func (k *Link) Delete() error {
	h, err := k.handle()
	if err != nil {
		return err
	}
	if err := h.LinkDel(k.netlinkLink()); err != nil {
		return fmt.Errorf("delete %s in %s: %w", k.Name, k.NS.Name, err)
	}
	k.NS.forgetLink(k.Name, k.Index)
	return nil
}

// forgetLink marks a journaled link removed by the script itself.
func (n *Netns) forgetLink(name string, index int) {
	if e := n.linkEntry(name, index); e != nil {
		n.lab.j.Gone(e)
	}
}

// linkEntry is the live journal entry of a link in n, if any.
func (n *Netns) linkEntry(name string, index int) *journal.Entry {
	for _, e := range n.lab.j.Live() {
		if e.Kind == journal.KindLink && e.Done && e.NsIno == n.Inode && e.Name == name && e.Index == index {
			return e
		}
	}
	return nil
}

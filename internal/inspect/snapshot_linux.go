package inspect

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nslua/nslua/internal/nsexec"
	"github.com/nslua/nslua/internal/nsfs"
	"github.com/nslua/nslua/internal/sys"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// snapshot is one namespace held open for the length of an inspection: the
// fd keeps it alive and identifies it to RTM_GETNSID, the handle talks to
// it, links is its link dump.
type snapshot struct {
	label   string // how a veth peer in it is named: "host", pin name, "pid:N", ...
	path    string
	inode   uint64
	fd      int
	h       *netlink.Handle
	diag    *nl.SocketHandle // NETLINK_INET_DIAG, for sockets
	sockIno map[uint32]int   // socket inode -> index in info.Listen
	nft     []string         // nftables tables, read with the sysctls
	links   []netlink.Link
	byIndex map[int]netlink.Link
	sysctl  map[string]string
	info    *Info // nil for a namespace opened only to name a veth peer
}

// pathError says what is wrong with a path and is errors.Is-comparable
// with the kind of wrongness (fs.ErrNotExist, ErrNotNetns).
type pathError struct {
	path, why string
	kind      error
}

func (e *pathError) Error() string { return e.path + " " + e.why }
func (e *pathError) Unwrap() error { return e.kind }

// openNetns opens path and checks, on that very fd, that it is a network
// namespace, so that a pin replaced in between cannot fool the check.
func openNetns(path string) (int, uint64, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return -1, 0, &pathError{path, "does not exist", fs.ErrNotExist}
	}
	if err != nil {
		return -1, 0, fmt.Errorf("open %s: %w", path, err)
	}
	inode, err := nsfs.CheckNetnsFd(fd, path)
	if err != nil {
		unix.Close(fd)
		return -1, 0, err
	}
	return fd, inode, nil
}

// openSnapshot opens the namespace at path, its netlink socket and, if
// withSysctl, reads its forwarding sysctls; then dumps its links.
func openSnapshot(path, label string, withSysctl bool, do doer) (*snapshot, error) {
	fd, inode, err := openNetns(path)
	if err != nil {
		return nil, err
	}
	return newSnapshot(fd, inode, path, label, withSysctl, do)
}

// newSnapshot takes over fd, a network namespace, and fills the snapshot
// in; on failure it closes fd.
func newSnapshot(fd int, inode uint64, path, label string, withSysctl bool, do doer) (*snapshot, error) {
	s := &snapshot{label: label, path: path, inode: inode, fd: fd}
	if err := s.enter(withSysctl, do); err != nil {
		s.close()
		return nil, err
	}
	if err := s.loadLinks(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// doer runs a function on a thread inside a namespace that is never given
// back to the scheduler: nsfs.Do, or an nsfs.Visitor's Do.
type doer func(nsFd int, fn func() error) error

// enter does, on a thread inside the namespace, the two things that depend
// on the calling thread's namespace: making the netlink sockets and reading
// the forwarding switches.
func (s *snapshot) enter(withSysctl bool, do doer) error {
	return do(s.fd, func() error {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netlink socket in %s: %w", s.path, err)
		}
		s.h = h
		if s.diag, err = openDiag(); err != nil {
			return fmt.Errorf("%s: %w", s.path, err)
		}
		if withSysctl {
			s.sysctl = readSysctls()
			s.nft = nftTables()
		}
		return nil
	})
}

// readSysctls must run on a thread inside the namespace: the netconf
// request goes over a route socket made there (see netconf_linux.go).
func readSysctls() map[string]string {
	sock, err := nl.GetNetlinkSocketAt(netns.None(), netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		return map[string]string{}
	}
	defer sock.Close()
	return readForwarding(&nl.SocketHandle{Socket: sock})
}

func (s *snapshot) close() {
	if s.h != nil {
		s.h.Close()
		s.h = nil
	}
	if s.diag != nil {
		s.diag.Close()
		s.diag = nil
	}
	if s.fd >= 0 {
		unix.Close(s.fd)
		s.fd = -1
	}
}

// dump runs a netlink dump of the namespace at path until it is consistent.
func dump[T any](what, path string, fn func() ([]T, error)) ([]T, error) {
	return sys.Dump(what, "in "+path, fn)
}

func (s *snapshot) loadLinks() error {
	links, err := dump("list links", s.path, s.h.LinkList)
	if err != nil {
		return err
	}
	sort.Slice(links, func(i, j int) bool { return links[i].Attrs().Index < links[j].Attrs().Index })
	s.links = links
	s.byIndex = make(map[int]netlink.Link, len(links))
	for _, l := range links {
		s.byIndex[l.Attrs().Index] = l
	}
	return nil
}

// linkName is the name of the link with index i here, "" if none.
func (s *snapshot) linkName(i int) string {
	if l, ok := s.byIndex[i]; ok {
		return l.Attrs().Name
	}
	return ""
}

// buildInfo turns the snapshot into an Info with links, addresses, routes,
// sysctls and /etc/netns entries; peers, procs, lab and netnsid are filled
// in later, once every namespace of the inspection is known. etcName is
// the name whose /etc/netns directory applies, "" for none.
func (s *snapshot) buildInfo(name, etcName string) error {
	addrs, err := dump("list addresses", s.path, func() ([]netlink.Addr, error) {
		return s.h.AddrList(nil, netlink.FAMILY_ALL)
	})
	if err != nil {
		return err
	}
	routes, err := dump("list routes", s.path, func() ([]netlink.Route, error) {
		return s.h.RouteListFiltered(netlink.FAMILY_ALL,
			&netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return err
	}
	rules, err := s.listRules()
	if err != nil {
		return err
	}
	etc, err := readEtc(etcName)
	if err != nil {
		return err
	}
	listen, sockIno, err := s.listeningSockets()
	if err != nil {
		return err
	}
	neigh, err := dump("list neighbours", s.path, func() ([]netlink.Neigh, error) {
		return s.h.NeighList(0, netlink.FAMILY_ALL)
	})
	if err != nil {
		return err
	}
	s.sockIno = sockIno
	sysctl := s.sysctl
	if sysctl == nil {
		sysctl = map[string]string{}
	}
	s.info = &Info{
		Name:       name,
		Path:       s.path,
		Inode:      s.inode,
		Links:      s.makeLinks(addrs),
		Routes:     s.makeRoutes(routes),
		Rules:      rules,
		Sysctl:     sysctl,
		Procs:      []Proc{},
		Etc:        etc,
		Listen:     listen,
		Neighbours: len(neigh),
		Nftables:   s.nft,
	}
	return s.addShapes()
}

func (s *snapshot) makeLinks(addrs []netlink.Addr) []Link {
	byLink := map[int][]string{}
	for _, a := range addrs {
		if a.IPNet != nil {
			byLink[a.LinkIndex] = append(byLink[a.LinkIndex], a.IPNet.String())
		}
	}
	out := make([]Link, 0, len(s.links))
	for _, l := range s.links {
		a := l.Attrs()
		link := Link{
			Name:   a.Name,
			Index:  a.Index,
			Kind:   linkKind(l),
			State:  "down",
			Oper:   a.OperState.String(),
			MTU:    a.MTU,
			MAC:    a.HardwareAddr.String(),
			Master: s.linkName(a.MasterIndex),
			Addrs:  byLink[a.Index],
		}
		if a.Flags&net.FlagUp != 0 {
			link.State = "up"
		}
		if link.Addrs == nil {
			link.Addrs = []string{}
		}
		link.Parent, link.Params = s.linkDetails(l)
		out = append(out, link)
	}
	return out
}

// linkKind is IFLA_INFO_KIND ("veth", "bridge", ...); links without one
// (loopback, physical NICs) are "loopback" or "device".
func linkKind(l netlink.Link) string {
	if _, ok := l.(*netlink.Device); ok {
		if l.Attrs().EncapType == "loopback" {
			return "loopback"
		}
		return "device"
	}
	return l.Type()
}

func (s *snapshot) makeRoutes(routes []netlink.Route) []Route {
	out := make([]Route, 0, len(routes))
	for _, r := range routes {
		if r.Table == unix.RT_TABLE_LOCAL {
			continue // the kernel's own: local and broadcast addresses
		}
		out = append(out, s.makeRoute(r))
	}
	return out
}

func (s *snapshot) makeRoute(r netlink.Route) Route {
	out := Route{
		Dst:    prefixString(r.Dst),
		Dev:    s.linkName(r.LinkIndex),
		Proto:  r.Protocol.String(),
		Table:  tableName(r.Table),
		Metric: r.Priority,
	}
	if r.Gw != nil {
		out.Via = r.Gw.String()
	} else if r.Via != nil {
		out.Via = r.Via.String()
	}
	if r.Src != nil {
		out.Src = r.Src.String()
	}
	if r.Type != unix.RTN_UNICAST {
		out.Type = routeType(r.Type)
	}
	if len(r.MultiPath) > 0 {
		var vias, devs []string
		for _, hop := range r.MultiPath {
			if hop.Gw != nil {
				vias = append(vias, hop.Gw.String())
			}
			devs = append(devs, s.linkName(hop.LinkIndex))
		}
		out.Via = strings.Join(vias, ",")
		out.Dev = strings.Join(devs, ",")
	}
	return out
}

// prefixString writes a route destination as `ip route` does.
func prefixString(dst *net.IPNet) string {
	if dst == nil {
		return "default"
	}
	if ones, _ := dst.Mask.Size(); ones == 0 && dst.IP.IsUnspecified() {
		return "default"
	}
	return dst.String()
}

func routeType(t int) string {
	switch t {
	case unix.RTN_LOCAL:
		return "local"
	case unix.RTN_BROADCAST:
		return "broadcast"
	case unix.RTN_ANYCAST:
		return "anycast"
	case unix.RTN_MULTICAST:
		return "multicast"
	case unix.RTN_BLACKHOLE:
		return "blackhole"
	case unix.RTN_UNREACHABLE:
		return "unreachable"
	case unix.RTN_PROHIBIT:
		return "prohibit"
	case unix.RTN_THROW:
		return "throw"
	case unix.RTN_NAT:
		return "nat"
	}
	return fmt.Sprintf("type-%d", t)
}

// etcDir is where `ip netns exec` looks for per-namespace /etc files.
const etcDir = nsexec.EtcRoot

// readEtc lists /etc/netns/NAME. A name that could not be a pin name (or
// "") has no such directory by definition.
func readEtc(name string) ([]Etc, error) {
	out := []Etc{}
	if nsfs.ValidateName(name) != nil {
		return out, nil
	}
	dir := filepath.Join(etcDir, name)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries { // ReadDir sorts by name
		target := filepath.Join("/etc", e.Name())
		_, statErr := os.Stat(target)
		out = append(out, Etc{Path: e.Name(), BoundTo: target, HostExists: statErr == nil})
	}
	return out, nil
}

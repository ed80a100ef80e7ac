package inspect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sort"
	"strconv"

	"github.com/nslua/nslua/internal/nsfs"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// world is one inspection: every namespace it holds open, so that a veth
// peer can be named without reopening anything.
type world struct {
	host    *snapshot
	snaps   []*snapshot          // everything opened, for close
	byInode map[uint64]*snapshot // the first snapshot of each namespace
	byPath  map[string]*snapshot // so a pin already open is not searched again
	pairs   map[pairKey][]*snapshot
	nsids   map[nsidKey]*snapshot // resolved (namespace, netnsid); nil = not found
	procs   map[uint64][]int      // lazily scanned
	refs    []nsRef               // lazily listed places a peer may be
}

// pairKey is a veth end as seen from its own namespace: its index and its
// peer's index in the peer's namespace.
type pairKey struct{ index, peer int }

// nsidKey is a netnsid, which only means something in the namespace it
// was read in.
type nsidKey struct {
	from uint64
	id   int
}

// nsRef is a place where a namespace not inspected may be found.
type nsRef struct {
	path, label string
	inode       uint64 // 0 if unknown until opened
}

func newWorld() (*world, error) {
	w := &world{
		byInode: map[uint64]*snapshot{},
		byPath:  map[string]*snapshot{},
		pairs:   map[pairKey][]*snapshot{},
		nsids:   map[nsidKey]*snapshot{},
	}
	host, err := openHost()
	if err != nil {
		return nil, fmt.Errorf("open the host namespace: %w", err)
	}
	w.add(host)
	w.host = host
	return w, nil
}

// openHost opens the namespace the caller's goroutines run in, through
// the calling thread rather than /proc/self: /proc/self/ns/net is the main
// thread's, and the Go runtime never reuses (and never ends) a main thread
// that a namespace-switching goroutine left locked, so that one may be in
// any namespace.
func openHost() (*snapshot, error) {
	runtime.LockOSThread()
	path := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
	fd, inode, err := openNetns(path)
	runtime.UnlockOSThread()
	if err != nil {
		return nil, err
	}
	return newSnapshot(fd, inode, path, "host", true, nsfs.Do)
}

func (w *world) close() {
	for _, s := range w.snaps {
		s.close()
	}
}

// add records s and indexes its veths whose peer is in another namespace.
// A namespace opened twice (two pins of it) is indexed once, under the
// label it was first seen with; the host comes first, so it stays "host".
func (w *world) add(s *snapshot) {
	w.snaps = append(w.snaps, s)
	w.byPath[s.path] = s
	if _, dup := w.byInode[s.inode]; dup {
		return
	}
	w.byInode[s.inode] = s
	for _, l := range s.links {
		a := l.Attrs()
		if _, ok := l.(*netlink.Veth); ok && a.NetNsID >= 0 {
			k := pairKey{a.Index, a.ParentIndex}
			w.pairs[k] = append(w.pairs[k], s)
		}
	}
}

func (w *world) procTable() (map[uint64][]int, error) {
	if w.procs == nil {
		p, err := scanProcs()
		if err != nil {
			return nil, err
		}
		w.procs = p
	}
	return w.procs, nil
}

// resolvePeers names the other end of every veth of s.
func (w *world) resolvePeers(s *snapshot) error {
	for i, l := range s.links {
		if _, ok := l.(*netlink.Veth); !ok {
			continue
		}
		p, err := w.peerOf(s, l)
		if err != nil {
			return fmt.Errorf("peer of %s: %w", l.Attrs().Name, err)
		}
		s.info.Links[i].Peer = p
	}
	return nil
}

// peerOf finds the veth at (IFLA_LINK_NETNSID, IFLA_LINK) of l; no
// netnsid means the peer is in s itself.
func (w *world) peerOf(s *snapshot, l netlink.Link) (*Peer, error) {
	a := l.Attrs()
	if a.ParentIndex == 0 {
		return nil, nil // a veth whose peer is being destroyed
	}
	b := s
	if a.NetNsID >= 0 {
		var err error
		b, err = w.nsByID(s, a.NetNsID, a.Index, a.ParentIndex)
		if err != nil {
			return nil, err
		}
	}
	if b == nil {
		return &Peer{Name: "if" + strconv.Itoa(a.ParentIndex), NS: "netnsid:" + strconv.Itoa(a.NetNsID)}, nil
	}
	name := b.linkName(a.ParentIndex)
	if name == "" {
		name = "if" + strconv.Itoa(a.ParentIndex)
	}
	return &Peer{Name: name, NS: w.byInode[b.inode].label, Inode: b.inode}, nil
}

// nsByID finds the namespace that s calls id. A namespace already open
// qualifies only if it holds the mirror image of the veth (index peerIdx,
// peer index idx), and a candidate is confirmed by asking s's kernel for
// its id, so each (namespace, id) costs one request, not one per namespace.
func (w *world) nsByID(s *snapshot, id, idx, peerIdx int) (*snapshot, error) {
	key := nsidKey{s.inode, id}
	if b, ok := w.nsids[key]; ok {
		return b, nil
	}
	for _, c := range w.pairs[pairKey{peerIdx, idx}] {
		if c.inode == s.inode {
			continue
		}
		got, err := s.h.GetNetNsIdByFd(c.fd)
		if err != nil {
			return nil, fmt.Errorf("netnsid of %s in %s: %w", c.path, s.path, err)
		}
		if got == id {
			w.nsids[key] = c
			return c, nil
		}
	}
	b, err := w.search(s, id)
	if err != nil {
		return nil, err
	}
	w.nsids[key] = b
	return b, nil
}

// search looks for the namespace s calls id among those not open yet:
// pins, processes' namespaces and nsfs mounts elsewhere, in that order, so
// that the peer gets the most telling name.
func (w *world) search(s *snapshot, id int) (*snapshot, error) {
	refs, err := w.listRefs()
	if err != nil {
		return nil, err
	}
	tried := map[uint64]bool{}
	for _, r := range refs {
		if w.byPath[r.path] != nil || w.byInode[r.inode] != nil || r.inode != 0 && tried[r.inode] {
			continue
		}
		b, inode, err := w.tryRef(s, id, r)
		if err != nil {
			return nil, err
		}
		if b != nil {
			return b, nil
		}
		// A ref that vanished has no inode: marking 0 tried would skip
		// every pin after it (pins are listed without their inode).
		if inode != 0 {
			tried[inode] = true
		}
	}
	return nil, nil
}

// tryRef opens r and keeps it if s calls it id. A ref that vanished or is
// no longer a namespace is simply not it.
func (w *world) tryRef(s *snapshot, id int, r nsRef) (*snapshot, uint64, error) {
	fd, inode, err := openNetns(r.path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNotNetns) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if _, known := w.byInode[inode]; known {
		unix.Close(fd)
		return nil, inode, nil
	}
	got, err := s.h.GetNetNsIdByFd(fd)
	if err != nil || got != id {
		unix.Close(fd)
		if err != nil {
			return nil, 0, fmt.Errorf("netnsid of %s in %s: %w", r.path, s.path, err)
		}
		return nil, inode, nil
	}
	b, err := newSnapshot(fd, inode, r.path, r.label, false, nsfs.Do)
	if err != nil {
		return nil, 0, err
	}
	w.add(b)
	return b, inode, nil
}

// listRefs lists, once, where an uninspected namespace may be found.
func (w *world) listRefs() ([]nsRef, error) {
	if w.refs != nil {
		return w.refs, nil
	}
	names, err := nsfs.List()
	if err != nil {
		return nil, err
	}
	refs := []nsRef{}
	for _, n := range names {
		refs = append(refs, nsRef{path: nsfs.PinPath(n), label: n})
	}
	procs, err := w.procTable()
	if err != nil {
		return nil, err
	}
	refs = append(refs, procRefs(procs)...)
	mounts, err := netnsMounts(nsfs.RunDir)
	if err != nil {
		return nil, err
	}
	for _, m := range mounts {
		refs = append(refs, nsRef{path: m.path, label: "inode:" + strconv.FormatUint(m.inode, 10), inode: m.inode})
	}
	w.refs = refs
	return refs, nil
}

// procRefs names each process namespace after its lowest PID, in PID order.
func procRefs(procs map[uint64][]int) []nsRef {
	inodes := make([]uint64, 0, len(procs))
	for inode := range procs {
		inodes = append(inodes, inode)
	}
	sort.Slice(inodes, func(i, j int) bool { return procs[inodes[i]][0] < procs[inodes[j]][0] })
	refs := make([]nsRef, 0, len(inodes))
	for _, inode := range inodes {
		pid := strconv.Itoa(procs[inode][0])
		refs = append(refs, nsRef{path: "/proc/" + pid + "/ns/net", label: "pid:" + pid, inode: inode})
	}
	return refs
}

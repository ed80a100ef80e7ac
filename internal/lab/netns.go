package lab

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsexec"
	"github.com/nslua/nslua/internal/nsfs"
	"github.com/nslua/nslua/internal/sys"
)

// Netns is a network namespace as a lab sees it.
type Netns struct {
	Name  string
	Path  string
	Inode uint64

	lab   *Lab
	owned bool // created by this lab: removed, with what runs in it, at teardown
	host  bool

	mu      sync.Mutex
	fd      int // keeps the namespace reachable while the lab uses it
	nl      *netlink.Handle
	worker  *nsexec.Worker
	entry   *journal.Entry
	deleted bool

	resolvDone bool // the namespace has its own resolv.conf (see ensureResolv)

	priv      *nsexec.Private // private /run, /tmp, /var/lib (nil: the host's); see private.go
	privReady bool
}

func (n *Netns) String() string {
	if n.host {
		return fmt.Sprintf("Netns(host, inode %d)", n.Inode)
	}
	return fmt.Sprintf("Netns(%s, inode %d)", n.Name, n.Inode)
}

// IsHost reports whether this is the namespace nslua started in.
func (n *Netns) IsHost() bool { return n.host }

// Lab returns the lab the handle belongs to.
func (n *Netns) Lab() *Lab { return n.lab }

// AddOptions are ns.add's options.
type AddOptions struct {
	ExistOK bool
	Etc     map[string]string // files written under /etc/netns/NAME
	Sysctl  map[string]string

	NoPrivate bool     // programs see the host's /run, /tmp, /var/lib (private.go)
	Share     []string // paths under those that programs see as the host's
}

// Add creates and pins a namespace, gives it its own resolv.conf, and
// applies opts. The namespace is journaled before it exists.
func (l *Lab) Add(name string, opts AddOptions) (*Netns, error) {
	if err := l.checkOpen(); err != nil {
		return nil, err
	}
	if err := nsfs.ValidateName(name); err != nil {
		return nil, err
	}
	priv, err := l.privateFor(name, opts)
	if err != nil {
		return nil, err
	}
	n, err := l.create(name, priv)
	if err != nil {
		if !opts.ExistOK || !errors.Is(err, ErrExists) {
			return nil, err
		}
		if n, err = l.Open(name); err != nil {
			return nil, err
		}
	}
	if err := n.configure(opts); err != nil {
		if n.owned {
			n.Delete()
		}
		return nil, err
	}
	return n, nil
}

func (l *Lab) create(name string, priv *nsexec.Private) (*Netns, error) {
	n := &Netns{Name: name, Path: nsfs.PinPath(name), lab: l, owned: true, fd: -1, priv: priv}
	entry := journal.Entry{Kind: journal.KindNetns, Name: name}
	if priv != nil {
		entry.Private, entry.Share = priv.Dir, priv.Share
	}
	if _, err := os.Lstat(n.Path); err == nil {
		return nil, fmt.Errorf("%s %w", n.Path, ErrExists)
	}
	hooks := nsfs.AddHooks{
		Before: func() (err error) {
			n.entry, err = l.j.Add(entry)
			return err
		},
		Inside: func() (err error) {
			n.nl, err = newHandleHere()
			return err
		},
	}
	inode, err := nsfs.Add(name, hooks)
	if err != nil {
		if n.entry != nil {
			l.j.Gone(n.entry)
		}
		if n.nl != nil {
			n.nl.Close()
		}
		return nil, err
	}
	n.Inode = inode
	n.entry.Inode = inode
	if err := l.j.Done(n.entry); err != nil {
		return nil, err
	}
	if n.fd, err = unix.Open(n.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		return nil, fmt.Errorf("open %s: %w", n.Path, err)
	}
	n.worker = nsexec.NewWorker(n.Path, name)
	if err := n.markPrivate(); err != nil {
		return nil, err
	}
	l.register(n)
	return n, nil
}

// ensureResolv gives a namespace this lab made its own resolv.conf, a copy
// of the host's, so that a DHCP client inside rewrites that copy and never
// the host's file. It is written when a program first runs in the
// namespace (before that, nothing can use it: programs nslua starts see a
// private copy anyway) and when the lab is kept, for `ip netns exec` users:
// building a 1000-namespace topology thus costs no 1000 file writes.
func (n *Netns) ensureResolv() error {
	n.mu.Lock()
	done := n.resolvDone || !n.owned
	n.resolvDone = true
	n.mu.Unlock()
	if done {
		return nil
	}
	if _, found, err := n.ReadEtc("resolv.conf"); err != nil || found {
		return err
	}
	data, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return nil // the host has none: nothing to protect
	}
	return n.WriteEtc("resolv.conf", string(data))
}

// newHandleHere opens a netlink socket in the calling thread's namespace
// and brings lo up, as `ip netns add` leaves it... plus the up.
func newHandleHere() (*netlink.Handle, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	lo := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: 1, Name: "lo"}}
	if err := h.LinkSetUp(lo); err != nil {
		h.Close()
		return nil, fmt.Errorf("set lo up: %w", err)
	}
	return h, nil
}

func (l *Lab) register(n *Netns) {
	l.mu.Lock()
	l.byInode[n.Inode] = n
	l.mu.Unlock()
}

func (n *Netns) configure(opts AddOptions) error {
	etc := opts.Etc
	if _, given := etc["resolv.conf"]; given {
		n.resolvDone = true
	}
	for _, path := range sortedKeys(etc) {
		if err := n.WriteEtc(path, etc[path]); err != nil {
			return err
		}
	}
	for _, key := range sortedKeys(opts.Sysctl) {
		if err := n.SetSysctl(key, opts.Sysctl[key]); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Open returns a handle on an existing pinned namespace, whoever made it.
// Teardown never removes it.
func (l *Lab) Open(name string) (*Netns, error) {
	if err := l.checkOpen(); err != nil {
		return nil, err
	}
	inode, err := nsfs.Open(name)
	if err != nil {
		return nil, err
	}
	return l.adopt(name, nsfs.PinPath(name), inode, false)
}

// adopt wraps an existing namespace, reusing the handle the lab already
// has for it, so that two handles on one namespace are one object.
func (l *Lab) adopt(name, path string, inode uint64, host bool) (*Netns, error) {
	l.mu.Lock()
	if n := l.byInode[inode]; n != nil && !n.host {
		l.mu.Unlock()
		return n, nil
	}
	l.mu.Unlock()
	n := &Netns{Name: name, Path: path, Inode: inode, lab: l, host: host, fd: -1}
	var err error
	if n.fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if n.nl, err = nsfs.HandleAt(n.fd); err != nil {
		unix.Close(n.fd)
		return nil, fmt.Errorf("netlink socket in %s: %w", name, err)
	}
	if !host {
		n.worker = nsexec.NewWorker(path, name)
		l.register(n)
	}
	return n, nil
}

func openHost(l *Lab) (*Netns, error) {
	path := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), os.Getpid())
	inode, err := nsfs.Inode(path)
	if err != nil {
		return nil, fmt.Errorf("host namespace: %w", err)
	}
	return l.adopt("host", path, inode, true)
}

// Pin pins an existing namespace (a PID's, or an nsfs path) as name, like
// `ip netns attach`. Teardown removes the pin, never the namespace's
// processes.
func (l *Lab) Pin(name, target string) (*Netns, error) {
	if err := l.checkOpen(); err != nil {
		return nil, err
	}
	path, err := nsfs.TargetPath(target)
	if err != nil {
		return nil, err
	}
	var entry *journal.Entry
	inode, err := nsfs.Attach(name, path, func() (err error) {
		entry, err = l.j.Add(journal.Entry{Kind: journal.KindPin, Name: name})
		return err
	})
	if err != nil {
		if entry != nil {
			l.j.Gone(entry)
		}
		return nil, err
	}
	entry.Inode = inode
	if err := l.j.Done(entry); err != nil {
		return nil, err
	}
	n, err := l.adopt(name, nsfs.PinPath(name), inode, false)
	if err != nil {
		return nil, err
	}
	n.entry = entry
	return n, nil
}

// handle returns the namespace's netlink handle, or an error once deleted.
func (n *Netns) handle() (*netlink.Handle, error) {
	if err := n.usable(); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.nl, nil
}

// Fd is an open file descriptor of the namespace.
func (n *Netns) Fd() (int, error) {
	if err := n.usable(); err != nil {
		return -1, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.fd, nil
}

// usable refuses a namespace deleted through the lab, and one whose pin was
// removed (or replaced) behind the lab's back, say by `ip netns del`: the
// lab's open descriptor would otherwise keep building into a namespace
// nobody can see any more.
func (n *Netns) usable() error {
	n.mu.Lock()
	deleted := n.deleted || n.nl == nil
	n.mu.Unlock()
	if deleted {
		return fmt.Errorf("namespace %q has been deleted", n.Name)
	}
	if n.host {
		return nil
	}
	if ino, err := nsfs.Inode(n.Path); err != nil || ino != n.Inode {
		return fmt.Errorf("namespace %q is gone: %s was removed", n.Name, n.Path)
	}
	return nil
}

// cutVeths deletes the veths whose peer lives in another namespace, so that
// the peers are gone when Delete returns, not when the kernel gets round to
// destroying the namespace a few milliseconds later.
func (n *Netns) cutVeths() {
	h, err := n.handle()
	if err != nil {
		return
	}
	links, err := h.LinkList()
	if err != nil {
		return
	}
	for _, l := range links {
		if l.Type() == "veth" && l.Attrs().NetNsID >= 0 {
			h.LinkDel(l)
		}
	}
}

// release closes what this process holds on the namespace, so that the
// kernel can free it once unpinned.
func (n *Netns) release() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.worker != nil {
		n.worker.Close()
	}
	if n.nl != nil {
		n.nl.Close()
		n.nl = nil
	}
	if n.fd >= 0 {
		unix.Close(n.fd)
		n.fd = -1
	}
}

// Delete stops the processes the lab started in the namespace (and, for a
// namespace the lab made, every other process in it), removes the
// /etc/netns files the lab wrote for it, and unpins it.
func (n *Netns) Delete() error {
	if n.host {
		return errors.New("the host namespace cannot be deleted")
	}
	n.mu.Lock()
	if n.deleted {
		n.mu.Unlock()
		return nil
	}
	n.mu.Unlock()
	l := n.lab
	var mine []*journal.Entry
	prefix := n.Name + "/"
	for _, e := range l.j.Live() {
		switch {
		case e.Kind == journal.KindProc && e.NsIno == n.Inode,
			e.Kind == journal.KindBridge && e.NsIno == n.Inode,
			e.Kind == journal.KindEtcFile && strings.HasPrefix(e.Name, prefix),
			e.Kind == journal.KindEtcDir && (e.Name == n.Name || strings.HasPrefix(e.Name, prefix)),
			e == n.entry:
			mine = append(mine, e)
		}
	}
	if n.owned {
		n.cutVeths()
	}
	n.release()
	errs := (&undoer{log: l.Log, run: l.markerIfStarted(), runNs: n.Inode}).undo(mine, l.j)
	if n.entry == nil { // opened, not created or pinned by us: the user asked
		if err := nsfs.Unpin(n.Name); err != nil {
			errs = append(errs, err)
		}
	}
	n.mu.Lock()
	n.deleted = true
	n.mu.Unlock()
	l.mu.Lock()
	delete(l.byInode, n.Inode)
	l.mu.Unlock()
	return errors.Join(errs...)
}

// Pids lists the processes whose network namespace is this one.
func (n *Netns) Pids() ([]int, error) {
	byIno, err := pidsByNetns()
	if err != nil {
		return nil, err
	}
	pids := byIno[n.Inode]
	if pids == nil {
		pids = []int{}
	}
	return pids, nil
}

// pidsByNetns maps network namespace inodes to the PIDs inside, in one
// pass over /proc; nslua itself is left out.
func pidsByNetns() (map[uint64][]int, error) {
	by, err := sys.PidsByNetns()
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	for ino, pids := range by {
		by[ino] = slices.DeleteFunc(pids, func(p int) bool { return p == self })
	}
	return by, nil
}

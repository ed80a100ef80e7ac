package lab

import (
	"fmt"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/tc"
)

// Shape makes the link's egress shape as s (internal/tc: tbf for the rate,
// netem for the rest), changing a shaping already there in place; a zero s
// removes it. In a namespace the lab did not create the qdisc is
// journaled first, and removed at teardown; there a qdisc someone else
// configured is refused rather than replaced, since nslua could not put it
// back. In the lab's own namespaces the qdiscs go with the namespace.
func (k *Link) Shape(s tc.Shape) error {
	h, err := k.handle()
	if err != nil {
		return err
	}
	l, err := h.LinkByIndex(k.Index)
	if err != nil {
		return fmt.Errorf("link %s in %s is gone", k.Name, k.NS.Name)
	}
	foreign := !k.NS.owned || k.NS.host
	if foreign {
		if err := k.checkForeignRoot(h); err != nil {
			if s.IsZero() {
				return nil // nothing of nslua's to remove; theirs stays
			}
			return err
		}
	}
	var e *journal.Entry
	if foreign && !s.IsZero() {
		if e, err = k.journalQdisc(); err != nil {
			return err
		}
	}
	if err := tc.Apply(h, k.Index, l.Attrs().MTU, s); err != nil {
		if e != nil && !e.Done {
			k.NS.lab.j.Gone(e)
		}
		if err == tc.ErrNoNetem {
			return fmt.Errorf("%s: %w", strings.Join(s.NetemKeys(), ", "), err)
		}
		return fmt.Errorf("shape %s in %s: %w", k.Name, k.NS.Name, err)
	}
	switch {
	case s.IsZero():
		if old := k.qdiscEntry(); old != nil {
			k.NS.lab.j.Gone(old)
		}
	case e != nil && !e.Done:
		k.NS.lab.j.Done(e)
	}
	return nil
}

// ReadShape reads the link's shaping back from the kernel (ok false: none).
func (k *Link) ReadShape() (s tc.Shape, ok bool, err error) {
	h, err := k.handle()
	if err != nil {
		return tc.Shape{}, false, err
	}
	l, err := h.LinkByIndex(k.Index)
	if err != nil {
		return tc.Shape{}, false, fmt.Errorf("link %s in %s is gone", k.Name, k.NS.Name)
	}
	s, ok, err = tc.Current(h, k.Index, l.Attrs().MTU)
	if err != nil {
		return tc.Shape{}, false, fmt.Errorf("read the qdiscs of %s in %s: %w", k.Name, k.NS.Name, err)
	}
	return s, ok, nil
}

// checkForeignRoot refuses a root qdisc that is neither the kernel's
// default (handle 0) nor nslua's.
func (k *Link) checkForeignRoot(h *netlink.Handle) error {
	qs, err := tc.Qdiscs(h, k.Index)
	if err != nil {
		return fmt.Errorf("read the qdiscs of %s in %s: %w", k.Name, k.NS.Name, err)
	}
	root := tc.Root(qs)
	if root == nil || root.Attrs().Handle == 0 || tc.Ours(root) {
		return nil
	}
	return fmt.Errorf("%s in %s has a qdisc nslua did not make (%s %s): nslua could not restore it at teardown, so it leaves it alone; remove it first (tc qdisc del dev %s root)",
		k.Name, k.NS.Name, root.Type(), tc.HandleText(root.Attrs().Handle), k.Name)
}

// journalQdisc records the link's qdisc, once however often it changes.
func (k *Link) journalQdisc() (*journal.Entry, error) {
	if e := k.qdiscEntry(); e != nil {
		return e, nil
	}
	nsPath := k.NS.Path
	if k.NS.host {
		nsPath = ""
	}
	return k.NS.lab.j.Add(journal.Entry{Kind: journal.KindQdisc, Name: k.Name, NsPath: nsPath, NsIno: k.NS.Inode, Index: k.Index})
}

func (k *Link) qdiscEntry() *journal.Entry {
	for _, e := range k.NS.lab.j.Live() {
		if e.Kind == journal.KindQdisc && e.NsIno == k.NS.Inode && e.Index == k.Index {
			return e
		}
	}
	return nil
}

// removeQdisc undoes a journaled shaping: the root qdisc of the link, if
// it is still the one nslua made (same ifindex, nslua's handle).
func (u *undoer) removeQdisc(e *journal.Entry) error {
	h, err := handleFor(e)
	if err != nil || h == nil {
		return err // the namespace is gone, and the link with it
	}
	defer h.Close()
	if _, err := h.LinkByIndex(e.Index); err != nil {
		return nil
	}
	qs, err := tc.Qdiscs(h, e.Index)
	if err != nil {
		return fmt.Errorf("read the qdiscs of %s: %w", e.Name, err)
	}
	root := tc.Root(qs)
	if root == nil || !tc.Ours(root) {
		return nil
	}
	if err := h.QdiscDel(root); err != nil {
		return fmt.Errorf("remove the shaping of %s: %w", e.Name, err)
	}
	u.did("removed the shaping of %s", e.Name)
	return nil
}

// Peer is the other end of a veth, in whichever of the lab's namespaces
// (or the host) it lives.
func (k *Link) Peer() (*Link, error) {
	h, err := k.handle()
	if err != nil {
		return nil, err
	}
	l, err := h.LinkByIndex(k.Index)
	if err != nil {
		return nil, fmt.Errorf("link %s in %s is gone", k.Name, k.NS.Name)
	}
	if l.Type() != "veth" {
		return nil, fmt.Errorf("%s in %s is a %s, not a veth: it has no peer", k.Name, k.NS.Name, l.Type())
	}
	idx, nsid := l.Attrs().ParentIndex, l.Attrs().NetNsID
	if nsid < 0 {
		return k.NS.linkByIndex(idx)
	}
	for _, n := range k.NS.lab.knownNetns() {
		fd, err := n.Fd()
		if err != nil || n == k.NS {
			continue
		}
		if id, err := h.GetNetNsIdByFd(fd); err == nil && id == nsid {
			return n.linkByIndex(idx)
		}
	}
	return nil, fmt.Errorf("the peer of %s in %s is in a namespace this lab has no handle on (ns.open it first)", k.Name, k.NS.Name)
}

func (n *Netns) linkByIndex(idx int) (*Link, error) {
	h, err := n.handle()
	if err != nil {
		return nil, err
	}
	l, err := h.LinkByIndex(idx)
	if err != nil {
		return nil, fmt.Errorf("no link with index %d in %s", idx, n.Name)
	}
	return wrapLink(n, l), nil
}

// knownNetns is every namespace the lab has a handle on, the host too.
func (l *Lab) knownNetns() []*Netns {
	l.Host() // the host is one of them; without it, the others are still searched
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.allNetns()
}

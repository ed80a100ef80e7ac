package tc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ErrNoNetem is returned when the kernel has no sch_netem.
var ErrNoNetem = errors.New("the kernel has no sch_netem (netem qdisc): rate alone works with tbf; load sch_netem or use a kernel built with CONFIG_NET_SCH_NETEM")

func list(h *netlink.Handle, index int) ([]netlink.Qdisc, error) {
	link := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: index}}
	var qs []netlink.Qdisc
	var err error
	for try := 0; try < 5; try++ {
		if qs, err = h.QdiscList(link); !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	out := qs[:0]
	for _, q := range qs {
		if q.Attrs().LinkIndex == index {
			out = append(out, q)
		}
	}
	return out, nil
}

// Qdiscs lists the qdiscs of link index.
func Qdiscs(h *netlink.Handle, index int) ([]netlink.Qdisc, error) { return list(h, index) }

// Current reads the shape of link index (ok false: not shaped).
func Current(h *netlink.Handle, index, mtu int) (Shape, bool, error) {
	qs, err := list(h, index)
	if err != nil {
		return Shape{}, false, err
	}
	s, ok := Read(qs, mtu)
	return s, ok, nil
}

// Apply makes link index shape as s, changing the qdiscs in place where
// the tree keeps its form (a changed rate or delay: no packet is lost to
// the change), and replacing the root only where it must (a rate added to
// or taken from a netem). A zero s removes the shaping. On failure it puts
// back what was there.
func Apply(h *netlink.Handle, index, mtu int, s Shape) error {
	if s.IsZero() {
		return Remove(h, index)
	}
	if done, err := applyFirst(h, Build(s, index, mtu)); done {
		return err
	}
	if done, err := changeRate(h, Build(s, index, mtu)); done {
		return err
	}
	qs, err := list(h, index)
	if err != nil {
		return err
	}
	prev, had := Read(qs, mtu)
	err = apply(h, qs, Build(s, index, mtu))
	if err == nil {
		return nil
	}
	if had {
		apply(h, mustList(h, index), Build(prev, index, mtu))
	} else {
		Remove(h, index)
	}
	return err
}

// applyFirst shapes a link that has the kernel's default qdisc, without
// listing its qdiscs (a dump walks every link of the namespace: shaping
// the 500 ports of a star would cost a dump each). An exclusive add at the
// root succeeds only over a default qdisc; done is false when there is
// another, and Apply then reads what is there.
func applyFirst(h *netlink.Handle, want Tree) (done bool, err error) {
	err = h.QdiscAdd(want.Root)
	if errors.Is(err, unix.EEXIST) {
		return false, nil
	}
	if err != nil {
		return true, qdiscErr("add", want.Root, err)
	}
	if want.Child != nil {
		if err := h.QdiscAdd(want.Child); err != nil {
			h.QdiscDel(want.Root)
			return true, qdiscErr("add", want.Child, err)
		}
	}
	return true, nil
}

// changeRate changes a rate-only shaping in place without a dump: a
// change of nslua's tbf succeeds only if it is the root, and a netem of
// nslua's under it is deleted by its handle (the kernel refuses any other).
func changeRate(h *netlink.Handle, want Tree) (done bool, err error) {
	if want.Child != nil || want.Root.Type() != "tbf" || h.QdiscChange(want.Root) != nil {
		return false, nil
	}
	index := want.Root.Attrs().LinkIndex
	deleted := false
	for _, handle := range []uint32{NetemHandle, netemAlt} {
		q := &netlink.Netem{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: index, Handle: handle, Parent: TbfHandle | 1}}
		if h.QdiscDel(q) == nil {
			deleted = true
		}
	}
	if deleted { // the tbf's own fifo again
		return true, qdiscErr("change", want.Root, h.QdiscChange(want.Root))
	}
	return true, nil
}

func mustList(h *netlink.Handle, index int) []netlink.Qdisc {
	qs, _ := list(h, index)
	return qs
}

func apply(h *netlink.Handle, qs []netlink.Qdisc, want Tree) error {
	root := Root(qs)
	if want.Root.Type() == "netem" {
		return putNetem(h, root, want.Root.(*netlink.Netem))
	}
	kept := root != nil && root.Type() == "tbf" && root.Attrs().Handle == TbfHandle
	if kept {
		if err := h.QdiscChange(want.Root); err != nil {
			return qdiscErr("change", want.Root, err)
		}
	} else if err := h.QdiscReplace(want.Root); err != nil {
		return qdiscErr("add", want.Root, err)
	}
	var child netlink.Qdisc
	if kept {
		child = childOf(qs, TbfHandle|1)
	}
	if want.Child != nil {
		return putNetem(h, child, want.Child.(*netlink.Netem))
	}
	if child != nil && child.Type() == "netem" {
		// Deleting the child leaves the class empty; changing the tbf
		// then gives it its default byte fifo again.
		if err := h.QdiscDel(child); err != nil {
			return qdiscErr("delete", child, err)
		}
		return qdiscErr("change", want.Root, h.QdiscChange(want.Root))
	}
	return nil
}

// putNetem makes want the netem at its parent, where cur is: changed in
// place when it is nslua's and the change can say everything, else made
// afresh under the other handle (replacing cur).
func putNetem(h *netlink.Handle, cur netlink.Qdisc, want *netlink.Netem) error {
	if n, ok := cur.(*netlink.Netem); ok && Ours(n) {
		if !stale(n, want) {
			want.Handle = n.Handle
			return qdiscErr("change", want, h.QdiscChange(want))
		}
		if n.Duplicate > 0 || want.Duplicate > 0 {
			// The kernel refuses a duplicating netem in a tree that holds
			// another netem (since 6.1.14x): the old one goes first.
			if err := h.QdiscDel(n); err != nil {
				return qdiscErr("delete", n, err)
			}
			want.Handle = NetemHandle
			return qdiscErr("add", want, h.QdiscAdd(want))
		}
		want.Handle = NetemHandle
		if n.Handle == NetemHandle {
			want.Handle = netemAlt
		}
	}
	return qdiscErr("add", want, h.QdiscReplace(want))
}

// stale: a change would leave corruption or reordering of cur in place
// (the kernel keeps them when their attribute is absent, and netlink
// leaves out a zero one).
func stale(cur, want *netlink.Netem) bool {
	return (cur.CorruptProb > 0 && want.CorruptProb == 0) || (cur.ReorderProb > 0 && want.ReorderProb == 0)
}

func qdiscErr(op string, q netlink.Qdisc, err error) error {
	if err == nil {
		return nil
	}
	if q.Type() == "netem" && (errors.Is(err, unix.ENOENT) || strings.Contains(err.Error(), "unknown")) {
		return ErrNoNetem
	}
	return fmt.Errorf("%s %s qdisc: %w", op, q.Type(), err)
}

// Remove deletes a root tbf or netem of link index, if any, which gives
// the link back its default qdisc.
func Remove(h *netlink.Handle, index int) error {
	qs, err := list(h, index)
	if err != nil {
		return err
	}
	root := Root(qs)
	if root == nil || (root.Type() != "tbf" && root.Type() != "netem") {
		return nil
	}
	if err := h.QdiscDel(root); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("delete %s qdisc: %w", root.Type(), err)
	}
	return nil
}

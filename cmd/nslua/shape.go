package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsfs"
	"github.com/nslua/nslua/internal/sys"
	"github.com/nslua/nslua/internal/tc"
)

// cmdShape is `nslua shape NS LINK [key=value...] | off`: link:shape from
// the shell, on a running lab (or any pinned namespace). Without keys it
// shows the link's shaping.
func cmdShape(args []string) error {
	if len(args) < 2 {
		return usageErr("shape needs a namespace and a link: nslua shape NS LINK [key=value...] | off")
	}
	name, dev, rest := args[0], args[1], args[2:]
	var s tc.Shape
	set := len(rest) > 0
	if !(len(rest) == 1 && rest[0] == "off") && set {
		kv := map[string]string{}
		for _, a := range rest {
			k, v, ok := strings.Cut(a, "=")
			if !ok || k == "" {
				return usageErr("shape: %q is not key=value (e.g. rate=10mbit delay=20ms), nor off", a)
			}
			kv[k] = v
		}
		var err error
		if s, err = tc.Parse(kv); err != nil {
			return usageErr("shape %s %s: %v", name, dev, err)
		}
	}
	out, err := shapeLink(name, dev, s, set)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("shape %s %s: %v", name, dev, sys.NeedRoot(err))}
	}
	fmt.Println(out)
	return nil
}

func shapeLink(name, dev string, s tc.Shape, set bool) (string, error) {
	if err := nsfs.ValidateName(name); err != nil {
		return "", err
	}
	inode, err := nsfs.Open(name)
	if err != nil {
		return "", err
	}
	fd, err := unix.Open(nsfs.PinPath(name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	h, err := nsfs.HandleAt(fd)
	if err != nil {
		return "", err
	}
	defer h.Close()
	l, err := h.LinkByName(dev)
	if err != nil {
		return "", fmt.Errorf("no link %s in %s", dev, name)
	}
	index, mtu := l.Attrs().Index, l.Attrs().MTU
	if set {
		if err := applyShape(h, index, mtu, s); err != nil {
			return "", err
		}
		if !s.IsZero() && labOf(inode) == "" {
			fmt.Fprintf(os.Stderr, "nslua: note: %s was made by no running lab: the shaping stays until `nslua shape %s %s off`\n", name, name, dev)
		}
	}
	cur, ok, err := tc.Current(h, index, mtu)
	if err != nil {
		return "", err
	}
	if !ok || cur.IsZero() {
		return fmt.Sprintf("%s %s: not shaped", name, dev), nil
	}
	return fmt.Sprintf("%s %s: %s", name, dev, cur), nil
}

// applyShape refuses to replace a qdisc someone configured (not the
// kernel's default, not a tbf or netem), as link:shape does outside a lab.
func applyShape(h *netlink.Handle, index, mtu int, s tc.Shape) error {
	qs, err := tc.Qdiscs(h, index)
	if err != nil {
		return err
	}
	if root := tc.Root(qs); root != nil && root.Attrs().Handle != 0 && root.Type() != "tbf" && root.Type() != "netem" {
		return fmt.Errorf("the link has a %s qdisc (%s) that nslua did not make: remove it first (tc qdisc del dev LINK root)",
			root.Type(), tc.HandleText(root.Attrs().Handle))
	}
	err = tc.Apply(h, index, mtu, s)
	if errors.Is(err, tc.ErrNoNetem) {
		return fmt.Errorf("%s: %w", strings.Join(s.NetemKeys(), ", "), err)
	}
	return err
}

// labOf is the lab that created the namespace with this inode ("": none),
// whose teardown takes the link's qdiscs with it.
func labOf(inode uint64) string {
	labs, _ := journal.Labs()
	for _, name := range labs {
		st, err := journal.Read(name)
		if err != nil {
			continue
		}
		for _, e := range st.Live() {
			if e.Kind == journal.KindNetns && e.Inode == inode {
				return name
			}
		}
	}
	return ""
}

package lab

import (
	"errors"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// AddrOptions are Link:addr's options.
type AddrOptions struct {
	// DAD runs IPv6 duplicate address detection and waits for its
	// outcome, instead of making the address usable at once.
	DAD bool
}

// AddAddr: `ip addr add CIDR dev NAME`. IPv6 addresses skip duplicate
// address detection (nodad), so they are usable at once.
func (k *Link) AddAddr(cidr string) error { return k.AddAddrWith(cidr, AddrOptions{}) }

// AddAddrWith is AddAddr with options.
func (k *Link) AddAddrWith(cidr string, opts AddrOptions) error {
	ipnet, err := ParseCIDR(cidr)
	if err != nil {
		return err
	}
	h, err := k.handle()
	if err != nil {
		return err
	}
	v6 := ipnet.IP.To4() == nil
	addr := &netlink.Addr{IPNet: ipnet}
	if v6 && !opts.DAD {
		addr.Flags = unix.IFA_F_NODAD
	}
	if err := h.AddrAdd(k.netlinkLink(), addr); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("address %s is already on %s in %s", cidr, k.Name, k.NS.Name)
		}
		return fmt.Errorf("add address %s to %s in %s: %w", cidr, k.Name, k.NS.Name, err)
	}
	if v6 && opts.DAD {
		return k.waitDAD(h, addr, cidr)
	}
	return nil
}

// dadTimeout bounds waitDAD: detection takes about a second (one probe,
// RetransTimer 1 s) after a random delay of up to a second.
const dadTimeout = 10 * time.Second

// waitDAD waits until the kernel has decided on a new IPv6 address; an
// address that failed, or whose detection never ended, is removed again.
func (k *Link) waitDAD(h *netlink.Handle, addr *netlink.Addr, cidr string) error {
	deadline := time.Now().Add(dadTimeout)
	for {
		as, err := h.AddrList(k.netlinkLink(), netlink.FAMILY_V6)
		if err != nil {
			return fmt.Errorf("addresses of %s in %s: %w", k.Name, k.NS.Name, err)
		}
		flags, found := 0, false
		for _, a := range as {
			if a.IP.Equal(addr.IP) {
				flags, found = a.Flags, true
			}
		}
		switch {
		case !found:
			return fmt.Errorf("address %s vanished from %s in %s during duplicate address detection", cidr, k.Name, k.NS.Name)
		case flags&unix.IFA_F_DADFAILED != 0:
			h.AddrDel(k.netlinkLink(), addr)
			return fmt.Errorf("address %s on %s in %s: duplicate address detection failed: another node on the link has it", cidr, k.Name, k.NS.Name)
		case flags&unix.IFA_F_TENTATIVE == 0:
			return nil
		case time.Now().After(deadline):
			h.AddrDel(k.netlinkLink(), addr)
			return fmt.Errorf("address %s on %s in %s: duplicate address detection did not end within %v (is the link up, and its peer?)", cidr, k.Name, k.NS.Name, dadTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Addrs lists the link's addresses as CIDR strings (IPv6 link-local ones
// included).
func (k *Link) Addrs() ([]string, error) {
	h, err := k.handle()
	if err != nil {
		return nil, err
	}
	as, err := h.AddrList(k.netlinkLink(), netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("addresses of %s in %s: %w", k.Name, k.NS.Name, err)
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.IPNet.String()
	}
	return out, nil
}

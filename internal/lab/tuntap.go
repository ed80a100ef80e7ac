package lab

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/nsfs"
)

// TuntapOptions are tuntap's options.
type TuntapOptions struct {
	Mode         string // "tap" (Ethernet frames) or "tun" (IP packets)
	Owner, Group int    // -1: anyone with CAP_NET_ADMIN may attach
}

// Tuntap creates a persistent tun or tap device that a program in the
// namespace attaches to by opening /dev/net/tun with TUNSETIFF and the
// name: `ip tuntap add NAME mode tap user OWNER`. There is no
// netlink request that creates one: the ioctl runs on a thread inside the
// namespace, since a tun device is made where /dev/net/tun was opened.
func (n *Netns) Tuntap(name string, t TuntapOptions, o LinkOptions) (*Link, error) {
	flags := uint16(unix.IFF_NO_PI)
	switch t.Mode {
	case "", "tap":
		flags |= unix.IFF_TAP
	case "tun":
		flags |= unix.IFF_TUN
	default:
		return nil, fmt.Errorf("tuntap %q: mode %q is neither tap nor tun", name, t.Mode)
	}
	if o.In != nil && o.In != n {
		return nil, fmt.Errorf("tuntap %q: create it in its namespace (%s:tuntap)", name, o.In.Name)
	}
	if err := checkLinkOptions(name, o); err != nil {
		return nil, err
	}
	fd, err := n.Fd()
	if err != nil {
		return nil, err
	}
	e, err := n.journalLink(name)
	if err != nil {
		return nil, err
	}
	if err := nsfs.Do(fd, func() error { return makeTuntap(name, flags, t) }); err != nil {
		n.linkDone(e, 0, err)
		if n.taken(name) {
			return nil, fmt.Errorf("tuntap %q: a link named %s already exists in %s", name, name, n.Name)
		}
		if errors.Is(err, errNoTun) {
			return nil, fmt.Errorf("tuntap %q: the kernel has no tun module (/dev/net/tun is missing: modprobe tun)", name)
		}
		return nil, n.kindErr("tuntap", name, err)
	}
	k, err := n.Link(name)
	if err == nil {
		err = k.configure(o)
	}
	if err != nil {
		if k != nil {
			k.Delete()
		}
		n.linkDone(e, 0, err)
		return nil, err
	}
	n.linkDone(e, k.Index, nil)
	return k, nil
}

// configure applies what a tap cannot be created with.
func (k *Link) configure(o LinkOptions) error {
	if o.MTU != 0 {
		if err := k.SetMTU(o.MTU); err != nil {
			return err
		}
	}
	if o.MAC != "" {
		if err := k.SetMAC(o.MAC); err != nil {
			return err
		}
	}
	return k.finish(o)
}

var errNoTun = errors.New("no /dev/net/tun")

type ifreqFlags struct {
	name  [unix.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

func makeTuntap(name string, flags uint16, t TuntapOptions) error {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV) {
		// the node is made when tun is loaded (or by systemd's static nodes,
		// whose open autoloads it): a bare /dev without it means no tun
		return errNoTun
	}
	if err != nil {
		return fmt.Errorf("open /dev/net/tun: %w", err)
	}
	defer unix.Close(fd) // the device persists; no queue stays attached
	var req ifreqFlags
	copy(req.name[:], name)
	req.flags = flags | unix.IFF_TUN_EXCL
	if err := ioctl(fd, unix.TUNSETIFF, uintptr(unsafe.Pointer(&req))); err != nil {
		return fmt.Errorf("TUNSETIFF: %w", err)
	}
	if t.Owner >= 0 {
		if err := ioctl(fd, unix.TUNSETOWNER, uintptr(t.Owner)); err != nil {
			return fmt.Errorf("TUNSETOWNER %d: %w", t.Owner, err)
		}
	}
	if t.Group >= 0 {
		if err := ioctl(fd, unix.TUNSETGROUP, uintptr(t.Group)); err != nil {
			return fmt.Errorf("TUNSETGROUP %d: %w", t.Group, err)
		}
	}
	return ioctl(fd, unix.TUNSETPERSIST, 1)
}

func ioctl(fd int, req uint, arg uintptr) error {
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), arg); errno != 0 {
		return errno
	}
	return nil
}

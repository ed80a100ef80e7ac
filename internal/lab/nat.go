package lab

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsfs"
)

// NAT rules live in one nftables table per namespace, "nslua-LAB" (family
// ip), owned by the lab: teardown (or `nslua down`) deletes the table,
// and nothing else in the namespace's ruleset is touched. The requests
// run on a thread inside the namespace, so the netlink socket is there.

// NatTable is the name of the lab's nftables table.
func (l *Lab) NatTable() string { return "nslua-" + l.Name }

// Masquerade rewrites the source of IPv4 traffic leaving through out to
// out's address: `nft add rule ip nslua-LAB postrouting oifname OUT ip
// saddr SOURCE masquerade`. source "" matches every source.
func (n *Netns) Masquerade(out *Link, source string) error {
	if out.NS != n {
		return fmt.Errorf("masquerade: link %s is in %s, not in %s", out.Name, out.NS.Name, n.Name)
	}
	exprs := ifMatch(expr.MetaKeyOIFNAME, out.Name)
	if source != "" {
		_, src, err := net.ParseCIDR(source)
		if err != nil || src.IP.To4() == nil {
			return fmt.Errorf("masquerade: source %q is not an IPv4 prefix (e.g. 10.0.0.0/24)", source)
		}
		exprs = append(exprs,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: src.Mask, Xor: make([]byte, 4)},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: src.IP.To4()})
	}
	exprs = append(exprs, &expr.Masq{})
	if err := n.natRule("postrouting", exprs); err != nil {
		return fmt.Errorf("masquerade on %s in %s: %w", out.Name, n.Name, err)
	}
	return nil
}

// Forward is a port forward (DNAT) to a host behind the namespace.
type Forward struct {
	Proto string // "tcp" (default) or "udp"
	Port  int    // destination port that is forwarded
	To    string // "10.0.1.2:80", or "10.0.1.2" for the same port
	Iif   string // only traffic coming in on this link ("" = any)
}

// AddForward: `nft add rule ip nslua-LAB prerouting iifname IIF tcp dport
// PORT dnat to TO`. Replies must route back through the namespace.
func (n *Netns) AddForward(f Forward) error {
	exprs, err := forwardExprs(f)
	if err != nil {
		return err
	}
	if err := n.natRule("prerouting", exprs); err != nil {
		return fmt.Errorf("forward %s port %d to %s in %s: %w", f.Proto, f.Port, f.To, n.Name, err)
	}
	return nil
}

func forwardExprs(f Forward) ([]expr.Any, error) {
	proto := byte(unix.IPPROTO_TCP)
	switch f.Proto {
	case "", "tcp":
	case "udp":
		proto = unix.IPPROTO_UDP
	default:
		return nil, fmt.Errorf("forward: proto %q is neither tcp nor udp", f.Proto)
	}
	if f.Port < 1 || f.Port > 65535 {
		return nil, fmt.Errorf("forward: port %d is out of range (1..65535)", f.Port)
	}
	ip, port, err := hostPort(f.To, f.Port)
	if err != nil {
		return nil, err
	}
	var exprs []expr.Any
	if f.Iif != "" {
		if err := ValidateIfName(f.Iif); err != nil {
			return nil, fmt.Errorf("forward: iif: %w", err)
		}
		exprs = ifMatch(expr.MetaKeyIIFNAME, f.Iif)
	}
	return append(exprs,
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(uint16(f.Port))},
		&expr.Immediate{Register: 1, Data: ip},
		&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(uint16(port))},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	), nil
}

func hostPort(to string, port int) (net.IP, int, error) {
	host, p, err := net.SplitHostPort(to)
	if err != nil {
		host, p = to, strconv.Itoa(port)
	}
	ip := net.ParseIP(host).To4()
	pn, perr := strconv.Atoi(p)
	if ip == nil || perr != nil || pn < 1 || pn > 65535 {
		return nil, 0, fmt.Errorf("forward: to %q is not IPv4[:port] (e.g. 10.0.1.2:80)", to)
	}
	return ip, pn, nil
}

func ifMatch(key expr.MetaKey, name string) []expr.Any {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return []expr.Any{&expr.Meta{Key: key, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b}}
}

var natHooks = map[string]struct {
	hook *nftables.ChainHook
	prio *nftables.ChainPriority
}{
	"postrouting": {nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource},
	"prerouting":  {nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest},
}

// natRule appends a rule to a chain of the lab's table, making the table
// (journaled first) and the chain when they are missing.
func (n *Netns) natRule(chain string, exprs []expr.Any) error {
	fd, err := n.Fd()
	if err != nil {
		return err
	}
	name := n.lab.NatTable()
	var have bool
	err = nsfs.Do(fd, func() error {
		have, err = natTableExists(name)
		return err
	})
	if err != nil {
		return natErr(err)
	}
	var e *journal.Entry
	if !have && (!n.owned || n.host) {
		if e, err = n.lab.j.Add(journal.Entry{Kind: journal.KindNft, Name: name, NsPath: n.nsPath(), NsIno: n.Inode}); err != nil {
			return err
		}
	}
	err = nsfs.Do(fd, func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		t := c.AddTable(&nftables.Table{Name: name, Family: nftables.TableFamilyIPv4})
		h := natHooks[chain]
		ch := c.AddChain(&nftables.Chain{Name: chain, Table: t, Type: nftables.ChainTypeNAT, Hooknum: h.hook, Priority: h.prio})
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs})
		return c.Flush()
	})
	if e != nil {
		n.linkDone(e, 0, err)
	}
	return natErr(err)
}

func natTableExists(name string) (bool, error) {
	c, err := nftables.New()
	if err != nil {
		return false, err
	}
	_, err = c.ListTableOfFamily(name, nftables.TableFamilyIPv4)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	return err == nil, err
}

func natErr(err error) error {
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%w (does the kernel have nf_tables and nft_nat/nft_masq?)", err)
	}
	return err
}

func (n *Netns) nsPath() string {
	if n.host {
		return ""
	}
	return n.Path
}

// removeNft deletes a lab's nftables table, if its namespace is still the
// one recorded.
func (u *undoer) removeNft(e *journal.Entry) error {
	del := func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		c.DelTable(&nftables.Table{Name: e.Name, Family: nftables.TableFamilyIPv4})
		if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("delete nftables table %s: %w", e.Name, err)
		}
		u.did("removed nftables table %s", e.Name)
		return nil
	}
	if e.NsPath == "" {
		return del()
	}
	if ino, err := nsfs.Inode(e.NsPath); err != nil || ino != e.NsIno {
		return nil // the namespace is gone, and its tables with it
	}
	return nsfs.DoPath(e.NsPath, del)
}

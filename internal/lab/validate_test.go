package lab

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nslua/nslua/internal/sys"
	"golang.org/x/sys/unix"
)

// These tests need no root: they cover what the engine refuses before it
// asks the kernel for anything.

func TestValidateIfName(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"", "empty"},
		{"sixteen-bytes-xx", "limit is 15"},
		{".", "reserved"},
		{"..", "reserved"},
		{"a/b", `'/'`},
		{"a:b", `':'`},
		{"a b", `' '`},
		{"a\tb", `'\t'`},
		{"a\x00b", `'\x00'`},
		{"eth%d", "name template"},
	} {
		if err := ValidateIfName(c.name); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ValidateIfName(%q) = %v, want an error saying %s", c.name, err, c.want)
		}
	}
	for _, ok := range []string{"eth0", "a", "fifteen-bytes-x", "br-lan.10", "veth_1"} {
		if err := ValidateIfName(ok); err != nil {
			t.Errorf("ValidateIfName(%q) = %v", ok, err)
		}
	}
}

func TestParseCIDR(t *testing.T) {
	for _, c := range []struct{ in, ip, mask string }{
		{"10.0.0.1/24", "10.0.0.1", "ffffff00"},
		{"10.0.0.0/8", "10.0.0.0", "ff000000"},
		{"fd00::1/64", "fd00::1", "ffffffffffffffff0000000000000000"},
		{"::ffff:10.0.0.1/120", "10.0.0.1", "ffffffffffffffffffffffffffffff00"},
	} {
		n, err := ParseCIDR(c.in)
		if err != nil {
			t.Errorf("ParseCIDR(%q): %v", c.in, err)
			continue
		}
		if n.IP.String() != c.ip || n.Mask.String() != c.mask {
			t.Errorf("ParseCIDR(%q) = %s/%s, want %s/%s", c.in, n.IP, n.Mask, c.ip, c.mask)
		}
		if strings.Contains(c.in, ".") && len(n.IP) != net.IPv4len {
			t.Errorf("ParseCIDR(%q): IPv4 address kept in 16 bytes", c.in)
		}
	}
	for _, bad := range []string{"10.0.0.1", "10.0.0.1/33", "x/24", "", "10.0.0.1/24 "} {
		if _, err := ParseCIDR(bad); err == nil || !strings.Contains(err.Error(), "not an address with a prefix length") {
			t.Errorf("ParseCIDR(%q) = %v", bad, err)
		}
	}
}

func TestCheckSysctlKey(t *testing.T) {
	for _, ok := range []string{"net.ipv4.ip_forward", "net.ipv6.conf.eth0.disable_ipv6", "net.core.somaxconn"} {
		if err := CheckSysctlKey(ok); err != nil {
			t.Errorf("CheckSysctlKey(%q) = %v", ok, err)
		}
	}
	for _, c := range []struct{ key, want string }{
		{"kernel.hostname", "only net.*"},
		{"net", "only net.*"},
		{"net..x", "plain name"},
		{"net.ipv4.", "plain name"},
		{"net.ipv4/../../kernel", "plain name"},
		{"net.a\x00b", "plain name"},
	} {
		if err := CheckSysctlKey(c.key); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckSysctlKey(%q) = %v, want %q", c.key, err, c.want)
		}
	}
	if got := sysctlPath("net.ipv4.ip_forward"); got != "/proc/sys/net/ipv4/ip_forward" {
		t.Errorf("sysctlPath = %s", got)
	}
}

func TestParseDst(t *testing.T) {
	v6gw := net.ParseIP("fd00::1")
	for _, c := range []struct {
		dst  string
		gw   net.IP
		want string
	}{
		{"default", nil, "0.0.0.0/0"},
		{"default", net.ParseIP("10.0.0.1"), "0.0.0.0/0"},
		{"default", v6gw, "::/0"},
		{"10.2.0.0/24", nil, "10.2.0.0/24"},
		{"10.2.0.7/24", nil, "10.2.0.0/24"}, // as ip: the network
		{"10.2.0.7", nil, "10.2.0.7/32"},
		{"fd01::5", v6gw, "fd01::5/128"},
		{"fd01::/48", v6gw, "fd01::/48"},
	} {
		got, err := parseDst(c.dst, c.gw)
		if err != nil || got.String() != c.want {
			t.Errorf("parseDst(%q, %v) = %v, %v; want %s", c.dst, c.gw, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "defaults", "10.2.0.0/33", "host"} {
		if _, err := parseDst(bad, nil); err == nil || !strings.Contains(err.Error(), "neither \"default\" nor a prefix") {
			t.Errorf("parseDst(%q) = %v", bad, err)
		}
	}
}

// TestRouteSpecRefuses covers what n:route refuses before it looks at the
// namespace (a route with a dev needs one: see the root tests).
func TestRouteSpecRefuses(t *testing.T) {
	n := &Netns{Name: "x"}
	for _, c := range []struct {
		r    Route
		want string
	}{
		{Route{Dst: "default"}, "needs a gateway (via) or a device (dev)"},
		{Route{Dst: "default", Via: "10.0.0.1", Metric: -1}, "metric -1 is negative"},
		{Route{Dst: "default", Via: "gateway"}, `gateway "gateway" is not an IP address`},
		{Route{Dst: "fd00::/64", Via: "10.0.0.1"}, "of different IP versions"},
		{Route{Dst: "10.0.0.0/8", Via: "fd00::1"}, "of different IP versions"},
		{Route{Dst: "nowhere", Via: "10.0.0.1"}, "neither \"default\" nor a prefix"},
	} {
		if _, err := n.routeSpec(c.r); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("routeSpec(%+v) = %v, want %q", c.r, err, c.want)
		}
	}
	spec, err := n.routeSpec(Route{Dst: "default", Via: "fd00::1", Metric: 5})
	if err != nil || spec.Dst.String() != "::/0" || spec.Gw.String() != "fd00::1" || spec.Priority != 5 {
		t.Errorf("routeSpec(v6 default) = %+v, %v", spec, err)
	}
}

func TestRouteErrNamesTheCause(t *testing.T) {
	n := &Netns{Name: "ns1"}
	r := Route{Dst: "10.9.0.0/24", Via: "10.8.0.2"}
	if err := routeErr(n, r, os.NewSyscallError("x", unix.EEXIST)); !errors.Is(err, ErrExists) ||
		err.Error() != "route 10.9.0.0/24 via 10.8.0.2 in ns1: such a route already exists" {
		t.Errorf("routeErr(EEXIST) = %v", err)
	}
	if err := routeErr(n, r, unix.ENETUNREACH); !strings.Contains(err.Error(), "gateway 10.8.0.2 is not on any connected network there") {
		t.Errorf("routeErr(ENETUNREACH) = %v", err)
	}
}

func TestVethArgs(t *testing.T) {
	for _, c := range []struct {
		name, peer string
		opts       VethOptions
		want       string
	}{
		{"", "b", VethOptions{}, "interface name is empty"},
		{"a", "b/c", VethOptions{}, "peer: interface name"},
		{"a", "b", VethOptions{MTU: 67}, "mtu 67 is out of range"},
		{"a", "b", VethOptions{MTU: 65536}, "mtu 65536 is out of range"},
		{"a", "b", VethOptions{Addr: []string{"10.0.0.1"}}, "addr: "},
		{"a", "b", VethOptions{PeerAddr: []string{"10.0.0.1/24", "x"}}, "peer_addr: "},
	} {
		if err := vethArgs(c.name, c.peer, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("vethArgs(%q, %q, %+v) = %v, want %q", c.name, c.peer, c.opts, err, c.want)
		}
	}
	if err := vethArgs("a", "b", VethOptions{MTU: 9000, Addr: []string{"10.0.0.1/24"}, PeerAddr: []string{"fd00::2/64"}}); err != nil {
		t.Errorf("vethArgs(valid) = %v", err)
	}
	if _, err := vethSpec("a", "b", VethOptions{MAC: "02:00:00:00:00:01", PeerMAC: "nope"}); err == nil || !strings.Contains(err.Error(), `"nope" is not a MAC address`) {
		t.Errorf("vethSpec(bad peer mac) = %v", err)
	}
	v, err := vethSpec("a", "b", VethOptions{MTU: 1400, MAC: "02:00:00:00:00:01"})
	if err != nil || v.PeerMTU != 1400 || v.HardwareAddr.String() != "02:00:00:00:00:01" || v.PeerName != "b" {
		t.Errorf("vethSpec = %+v, %v", v, err)
	}
}

func TestParseMACAndGroupFwdMask(t *testing.T) {
	for _, bad := range []string{"", "02:00:00:00:00", "00:00:00:00:00:00:00:01", "zz:00:00:00:00:01"} {
		if _, err := parseMAC(bad); err == nil {
			t.Errorf("parseMAC(%q) accepted", bad)
		}
	}
	for _, m := range []uint16{1, 2, 4, 7, 0xffff} {
		if checkGroupFwdMask(m) == nil {
			t.Errorf("group_fwd_mask %#x accepted", m)
		}
	}
	for _, m := range []uint16{0, 8, 0xfff8} {
		if err := checkGroupFwdMask(m); err != nil {
			t.Errorf("group_fwd_mask %#x: %v", m, err)
		}
	}
	k := &Link{Name: "eth0", Kind: "veth"}
	if err := k.SetSTP(true); err == nil || err.Error() != "eth0 is a veth, not a bridge" {
		t.Errorf("SetSTP on a veth = %v", err)
	}
}

func TestCmdCheckArgv(t *testing.T) {
	for _, c := range []struct {
		cmd  Cmd
		want string
	}{
		{Cmd{}, "command is empty"},
		{Cmd{Argv: []string{""}}, "command is empty"},
		{Cmd{Argv: []string{"ls", "a\x00"}}, "NUL byte"},
		{Cmd{Argv: []string{"ls"}, Timeout: -time.Second}, "negative"},
	} {
		if err := c.cmd.check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("check(%+v) = %v, want %q", c.cmd, err, c.want)
		}
	}
	if got := ShellArgv("echo hi"); strings.Join(got, "|") != "/bin/sh|-c|echo hi" {
		t.Errorf("ShellArgv = %q", got)
	}
}

func TestStartFailureIsAShellStatus(t *testing.T) {
	// Neither dpkg's database nor apt-file: the fixed list answers.
	old := sys.DpkgInfoDir
	sys.DpkgInfoDir = t.TempDir()
	t.Cleanup(func() { sys.DpkgInfoDir = old })
	t.Setenv("PATH", t.TempDir())
	res, err := startFailure("dnsmasq", exec.ErrNotFound)
	if err != nil || res.Code != 127 || res.Stderr != "dnsmasq is not installed (apt-get install dnsmasq-base)\n" {
		t.Errorf("not found: %+v, %v", res, err)
	}
	res, err = startFailure("frobnicate", &os.PathError{Op: "fork/exec", Path: "frobnicate", Err: unix.ENOENT})
	if err != nil || res.Code != 127 || !strings.HasPrefix(res.Stderr, "frobnicate: command not found (not in any installed package; which package has it is unknown") {
		t.Errorf("unknown program: %+v, %v", res, err)
	}
	res, err = startFailure("/etc/passwd", &os.PathError{Op: "fork/exec", Path: "/etc/passwd", Err: unix.EACCES})
	if err != nil || res.Code != 126 {
		t.Errorf("not executable: %+v, %v", res, err)
	}
	boom := errors.New("the lab has been torn down")
	if res, err := startFailure("x", boom); res != nil || err != boom {
		t.Errorf("other error: %+v, %v", res, err)
	}
}

func TestNotFoundError(t *testing.T) {
	err := error(&NotFoundError{"link", "eth9", "ns1"})
	if err.Error() != "no link eth9 in ns1" || !errors.Is(err, ErrNotFound) {
		t.Errorf("NotFoundError: %v", err)
	}
	if errors.Is(errors.New("no link x in y"), ErrNotFound) {
		t.Error("ErrNotFound matches by text")
	}
}

// With dpkg's database: a program installed off PATH is named with its
// package and path; one there that cannot run is told apart.
func TestMissingProgramFromDpkg(t *testing.T) {
	old := sys.DpkgInfoDir
	sys.DpkgInfoDir = t.TempDir()
	t.Cleanup(func() { sys.DpkgInfoDir = old })
	os.WriteFile(filepath.Join(sys.DpkgInfoDir, "frob-utils.list"), []byte("/usr/sbin/frobnicate\n"), 0o644)
	t.Setenv("PATH", t.TempDir())
	want := "frobnicate is not on PATH (" + os.Getenv("PATH") + "), but package frob-utils installed it as /usr/sbin/frobnicate: give that path"
	if got := notInstalled("frobnicate").Error(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "broken"), []byte("#!/no/such/interpreter\n"), 0o755)
	t.Setenv("PATH", dir)
	if got := notInstalled("broken").Error(); !strings.Contains(got, "cannot be executed: a file it needs") {
		t.Errorf("broken script: %q", got)
	}
}

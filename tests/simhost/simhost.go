// Package simhost makes simulated machines on this one for the tests of
// labs across hosts. A simulated host is what a real one is to nslua: its
// own network namespace (an underlay link to a router) and its own mount
// namespace with its own /run (so /run/netns and /run/nslua), /tmp,
// /var/log and /root, and overlays of /etc and /var/lib whose writes stay
// inside it; Debian's sshd listens there and lets root in with a key.
//
// Everything a Sim makes is named with the test's prefix and removed by
// t.Cleanup, also when the test fails: processes by PID, then the pins.
package simhost

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Host is one simulated machine.
type Host struct {
	Alias string       // its name in Sim.SSHConfig: h1, h2, ...
	Netns string       // the pin of its network namespace in the real /run/netns
	Addr  string       // its underlay address, where sshd listens
	Log   bytes.Buffer // what its sshd said (read it once the Sim is gone)
	sshd  *exec.Cmd
	done  chan struct{} // closed when sshd has ended
}

// Sim is a set of simulated hosts behind one router namespace, which the
// host namespace (the controller) reaches through its own veth.
type Sim struct {
	Hosts     []*Host
	SSHConfig string // an ssh_config with one alias per host, key login as root
	Key       string // the client's private key
	Router    string // the router's pin
	Gateway   string // the controller's address on the underlay
	dir       string
	prefix    string
	subnet    string // 10.S: the /16 of the underlay
}

// Start makes n simulated hosts named with prefix (at most 8 characters,
// so that links named PREFIX-rN fit in 15).
func Start(t testing.TB, prefix string, n int) *Sim {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		t.Skip("simhost: no /usr/sbin/sshd (install openssh-server)")
	}
	dir, err := os.MkdirTemp("", "nslua-simhost-"+prefix+"-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Sim{dir: dir, prefix: prefix, Router: prefix + "-rt", subnet: freeSubnet(prefix)}
	t.Cleanup(s.remove)
	if err := s.build(n); err != nil {
		t.Fatalf("simhost: %v", err)
	}
	return s
}

func (s *Sim) build(n int) error {
	if err := s.keys(); err != nil {
		return err
	}
	if err := s.underlay(); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		if err := s.addHost(i); err != nil {
			return err
		}
	}
	if err := s.writeSSHConfig(); err != nil {
		return err
	}
	for _, h := range s.Hosts {
		if err := s.waitSSH(h); err != nil {
			return err
		}
	}
	return nil
}

// freeSubnet picks the underlay's 10.S.0.0/16 from the prefix, skipping a
// /16 that a route of this machine already covers.
func freeSubnet(prefix string) string {
	h := fnv.New32a()
	h.Write([]byte(prefix))
	for i := uint32(0); i < 64; i++ {
		s := fmt.Sprintf("10.%d", 128+(h.Sum32()+i)%100)
		out, _ := exec.Command("ip", "-4", "route", "show", "table", "all", "match", s+".0.0/16").Output()
		if !strings.Contains(string(out), s+".") {
			return s
		}
	}
	return "10.250"
}

// keys makes the client's key and the hosts' (shared) host key.
func (s *Sim) keys() error {
	s.Key = filepath.Join(s.dir, "id")
	for _, k := range []string{s.Key, filepath.Join(s.dir, "hostkey")} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "simhost", "-f", k).CombinedOutput(); err != nil {
			return fmt.Errorf("ssh-keygen %s: %v: %s", k, err, out)
		}
	}
	pub, err := os.ReadFile(s.Key + ".pub")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.dir, "authorized_keys"), pub, 0o600); err != nil {
		return err
	}
	return nil
}

// underlay makes the router and the controller's link to it:
// controller S.0.2 — S.0.1 router, routes to S.0.0/16 through it.
func (s *Sim) underlay() error {
	s.Gateway = s.subnet + ".0.2"
	up := s.prefix + "-up"
	return script(
		"ip netns add "+s.Router,
		"ip -n "+s.Router+" link set lo up",
		"ip netns exec "+s.Router+" sysctl -q -w net.ipv4.ip_forward=1",
		"ip link add "+up+" type veth peer name ctl netns "+s.Router,
		"ip addr add "+s.Gateway+"/24 dev "+up,
		"ip link set "+up+" up",
		"ip -n "+s.Router+" addr add "+s.subnet+".0.1/24 dev ctl",
		"ip -n "+s.Router+" link set ctl up",
		"ip route add "+s.subnet+".0.0/16 via "+s.subnet+".0.1 dev "+up,
	)
}

// addHost makes host i: S.i.2 on its eth0, S.i.1 the router's end.
func (s *Sim) addHost(i int) error {
	h := &Host{Alias: fmt.Sprintf("h%d", i), Netns: fmt.Sprintf("%s-h%d", s.prefix, i)}
	s.Hosts = append(s.Hosts, h) // so that remove finds it, whatever fails next
	h.Addr = fmt.Sprintf("%s.%d.2", s.subnet, i)
	rt := fmt.Sprintf("h%d", i)
	err := script(
		"ip netns add "+h.Netns,
		"ip -n "+h.Netns+" link set lo up",
		"ip -n "+s.Router+" link add "+rt+" type veth peer name eth0 netns "+h.Netns,
		fmt.Sprintf("ip -n %s addr add %s.%d.1/24 dev %s", s.Router, s.subnet, i, rt),
		"ip -n "+s.Router+" link set "+rt+" up",
		"ip -n "+h.Netns+" addr add "+h.Addr+"/24 dev eth0",
		"ip -n "+h.Netns+" link set eth0 up",
		fmt.Sprintf("ip -n %s route add default via %s.%d.1", h.Netns, s.subnet, i),
	)
	if err != nil {
		return err
	}
	return s.startSSHD(h)
}

// script runs each command line, stopping at the first that fails.
func script(lines ...string) error {
	for _, l := range lines {
		f := strings.Fields(l)
		if out, err := exec.Command(f[0], f[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", l, err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

func (s *Sim) writeSSHConfig() error {
	var b strings.Builder
	for _, h := range s.Hosts {
		fmt.Fprintf(&b, "Host %s\n  HostName %s\n  User root\n\n", h.Alias, h.Addr)
	}
	fmt.Fprintf(&b, "Host *\n  IdentityFile %s\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n"+
		"  UserKnownHostsFile /dev/null\n  GlobalKnownHostsFile /dev/null\n  LogLevel ERROR\n"+
		"  BatchMode yes\n  ConnectTimeout 5\n  ServerAliveInterval 2\n  ServerAliveCountMax 3\n", s.Key)
	s.SSHConfig = filepath.Join(s.dir, "ssh_config")
	return os.WriteFile(s.SSHConfig, []byte(b.String()), 0o600)
}

// waitSSH waits until root can log in to h (sshd takes a moment to listen).
func (s *Sim) waitSSH(h *Host) error {
	var last []byte
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); {
		if c, err := net.DialTimeout("tcp", h.Addr+":22", time.Second); err == nil {
			c.Close()
			out, err := exec.Command("ssh", "-F", s.SSHConfig, h.Alias, "true").CombinedOutput()
			if err == nil {
				return nil
			}
			last = out
		}
		select {
		case <-h.done:
			return fmt.Errorf("sshd of %s ended: %s", h.Alias, strings.TrimSpace(h.Log.String()))
		default:
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("sshd of %s (%s) not reachable: %s", h.Alias, h.Addr, strings.TrimSpace(string(last)))
}

package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// exportView is what a round trip must keep: names, links, peers,
// addresses, routes.
type exportView map[string][]string

func exportViewOf(t *testing.T, p, jsonText string) exportView {
	t.Helper()
	var infos []struct {
		Name  string `json:"name"`
		Links []struct {
			Name, Kind, State, Master, MAC string
			MTU                            int
			Addrs                          []string
			Peer                           *struct{ Name, NS string }
		} `json:"links"`
		Routes []struct{ Dst, Via, Dev, Proto string } `json:"routes"`
		Sysctl map[string]string                       `json:"sysctl"`
	}
	if err := json.Unmarshal([]byte(jsonText), &infos); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, jsonText)
	}
	view := exportView{}
	for _, info := range infos {
		if !strings.HasPrefix(info.Name, p) {
			continue
		}
		var facts []string
		for _, l := range info.Links {
			f := []string{"link", l.Name, l.Kind, l.State, l.Master, l.MAC, strings.Join(globalAddrs(l.Addrs), " ")}
			if l.Peer != nil {
				f = append(f, "peer", l.Peer.Name, l.Peer.NS)
			}
			facts = append(facts, strings.Join(f, "|"))
		}
		for _, r := range info.Routes {
			facts = append(facts, strings.Join([]string{"route", r.Dst, r.Via, r.Dev}, "|"))
		}
		facts = append(facts, "forward "+info.Sysctl["net.ipv4.ip_forward"])
		sort.Strings(facts)
		view[info.Name] = facts
	}
	return view
}

// globalAddrs leaves out IPv6 link-local addresses: the kernel derives
// them from the MAC a link had when it first came up (a bridge's changes
// when it takes its first port's), which no script controls.
func globalAddrs(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		if !strings.HasPrefix(a, "fe80:") {
			out = append(out, a)
		}
	}
	return out
}

// An ip-made topology, exported, removed and rebuilt from the export,
// inspects the same as the original.
func TestExportRoundTrip(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	names := []string{p + "a", p + "b", p + "c", p + "d", p + "r"}
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", p+"h").Run()
		for _, n := range names {
			exec.Command("ip", "netns", "del", n).Run()
		}
	})
	a, b, c, d, r := names[0], names[1], names[2], names[3], names[4]
	sh(t, `set -e
for n in `+strings.Join(names, " ")+`; do ip netns add $n; ip -n $n link set lo up; done
ip -n `+r+` link add br0 up type bridge
ip -n `+r+` addr add 10.71.0.254/24 dev br0
ip -n `+r+` addr add fd71::fe/64 dev br0 nodad
for n in `+a+` `+b+` `+c+`; do
  ip -n `+r+` link add p-$n type veth peer name eth0 netns $n
  ip -n `+r+` link set p-$n master br0 up
  ip -n $n link set eth0 up
done
ip -n `+a+` addr add 10.71.0.1/24 dev eth0
ip -n `+a+` addr add fd71::1/64 dev eth0 nodad
ip -n `+b+` addr add 10.71.0.2/24 dev eth0
ip -n `+c+` addr add 10.71.0.3/24 dev eth0
ip -n `+a+` route add default via 10.71.0.254
ip -n `+a+` -6 route add default via fd71::fe
ip -n `+b+` route add 10.72.0.0/24 via 10.71.0.254
ip -n `+r+` link add up0 type veth peer name eth0 netns `+d+`
ip -n `+r+` link set up0 up
ip -n `+d+` link set eth0 up
ip -n `+r+` addr add 10.72.0.1/24 dev up0
ip -n `+d+` addr add 10.72.0.2/24 dev eth0
ip -n `+d+` route add 10.71.0.0/24 via 10.72.0.1
ip link add `+p+`h type veth peer name tohost netns `+c+`
ip -n `+c+` addr add 10.73.0.2/24 dev tohost
ip -n `+c+` link set tohost up
ip link set `+p+`h up
ip netns exec `+r+` sysctl -qw net.ipv4.ip_forward=1
mkdir -p /etc/netns/`+a+`
printf 'nameserver 10.71.0.254\n' > /etc/netns/`+a+`/resolv.conf
`)
	before, stderr, code := run(t, "", append([]string{"inspect", "--json"}, names...)...)
	if code != 0 {
		t.Fatalf("inspect: %d %s", code, stderr)
	}
	script, stderr, code := run(t, "", append([]string{"export"}, names...)...)
	if code != 0 {
		t.Fatalf("export: %d %s", code, stderr)
	}
	file := filepath.Join(t.TempDir(), p+".lua")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	sh(t, "ip link del "+p+"h; for n in "+strings.Join(names, " ")+"; do ip netns del $n; done; rm -r /etc/netns/"+a)

	if out, stderr, code := run(t, "", "--keep", "--lab", p, file); code != 0 {
		t.Fatalf("running the export: %d\n%s%s\n%s", code, out, stderr, script)
	}
	t.Cleanup(func() { run(t, "", "down", p) })
	after, _, _ := run(t, "", append([]string{"inspect", "--json"}, names...)...)
	want, got := exportViewOf(t, p, before), exportViewOf(t, p, after)
	for _, n := range names {
		if strings.Join(want[n], "\n") != strings.Join(got[n], "\n") {
			t.Errorf("%s differs after the round trip:\nbefore:\n%s\nafter:\n%s\nscript:\n%s",
				n, strings.Join(want[n], "\n"), strings.Join(got[n], "\n"), script)
		}
	}
	conf, err := os.ReadFile("/etc/netns/" + a + "/resolv.conf")
	if err != nil || string(conf) != "nameserver 10.71.0.254\n" {
		t.Errorf("/etc/netns/%s/resolv.conf after the round trip: %q, %v", a, conf, err)
	}
	if _, stderr, code := run(t, "", "down", p); code != 0 {
		t.Errorf("down: %d %s", code, stderr)
	}
}

// inspect names what listens in a namespace, with the owning process, and
// explains a pin path.
func TestInspectListenersAndPinPath(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	a, b := p+"a", p+"b"
	t.Cleanup(func() {
		for _, n := range []string{a, b} {
			out, _ := exec.Command("ip", "netns", "pids", n).Output()
			for _, pid := range strings.Fields(string(out)) {
				exec.Command("kill", "-9", pid).Run()
			}
			exec.Command("ip", "netns", "del", n).Run()
		}
	})
	sh(t, `set -e
ip netns add `+a+`; ip netns add `+b+`
ip -n `+a+` link add eth0 type veth peer name eth0 netns `+b+`
ip -n `+a+` addr add 10.74.0.1/24 dev eth0; ip -n `+a+` link set eth0 up; ip -n `+b+` link set eth0 up`)
	leases := filepath.Join(t.TempDir(), "leases")
	dnsmasq := exec.Command("ip", "netns", "exec", a, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
		"--interface=eth0", "--bind-interfaces", "--except-interface=lo", "--no-resolv", "--no-hosts", "--port=0",
		"--dhcp-range=10.74.0.10,10.74.0.20,255.255.255.0,1h", "--no-ping", "--dhcp-leasefile="+leases)
	if err := dnsmasq.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dnsmasq.Process.Kill(); dnsmasq.Wait() })
	var info []struct {
		Listen []struct {
			Proto, Local, Iface string
			PIDs                []int
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, stderr, code := run(t, "", "inspect", "--json", a)
		if code != 0 {
			t.Fatalf("inspect: %s", stderr)
		}
		if err := json.Unmarshal([]byte(out), &info); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, so := range info[0].Listen {
			found = found || so.Proto == "udp" && so.Local == "0.0.0.0:67" && so.Iface == "eth0" && len(so.PIDs) == 1 && so.PIDs[0] == dnsmasq.Process.Pid
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("inspect does not show dnsmasq (pid %d) on udp 0.0.0.0:67 bound to eth0: %s", dnsmasq.Process.Pid, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A qdisc and an nftables table made by hand show too.
	sh(t, "ip netns exec "+a+" tc qdisc add dev eth0 root tbf rate 5mbit burst 5kb limit 10kb && ip netns exec "+a+" nft add table inet "+p+"t")
	var more []struct {
		Links []struct {
			Name  string
			Shape map[string]any
		}
		Nftables []string
	}
	js, _, _ := run(t, "", "inspect", "--json", a)
	if err := json.Unmarshal([]byte(js), &more); err != nil {
		t.Fatal(err)
	}
	for _, l := range more[0].Links {
		if l.Name == "eth0" && l.Shape["rate"] != "5mbit" {
			t.Errorf("inspect shows eth0's tbf as %v, want rate 5mbit", l.Shape)
		}
	}
	if strings.Join(more[0].Nftables, ",") != "inet "+p+"t" {
		t.Errorf("inspect shows the nftables tables %q, want inet %st", more[0].Nftables, p)
	}
	text, _, _ := run(t, "", "inspect", a)
	for _, want := range []string{"nft     inet " + p + "t"} {
		if !strings.Contains(text, want) {
			t.Errorf("inspect's text lacks %q:\n%s", want, text)
		}
	}
	if want := fmt.Sprintf("udp 0.0.0.0:67%%eth0 dnsmasq(%d)", dnsmasq.Process.Pid); !strings.Contains(text, want) {
		t.Errorf("inspect's text lacks %q:\n%s", want, text)
	}
	out, stderr, code := run(t, "", "inspect", "/run/netns/"+a)
	if code != 0 || !strings.Contains(out, "a bind mount of network namespace net:[") || !strings.Contains(out, "udp 0.0.0.0:67%eth0") {
		t.Errorf("inspect of the pin path: %d\n%s%s", code, out, stderr)
	}
	empty := "/run/netns/" + p + "e"
	if err := os.WriteFile(empty, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(empty)
	if _, stderr, code := run(t, "", "inspect", empty); code != 1 || !strings.Contains(stderr, "an empty file, not a namespace") {
		t.Errorf("inspect of an empty pin file: %d %s", code, stderr)
	}
}

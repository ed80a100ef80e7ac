package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nslua/nslua/internal/nsfs"
)

func TestTopology(t *testing.T) {
	tp := buildTopo(t)
	opts := Options{Owner: tp.owner(t)}

	single := map[string]*Info{}
	for _, ns := range []string{tp.a, tp.b, tp.c} {
		info, err := Namespace(ns, nsfs.PinPath(ns), opts)
		if err != nil {
			t.Fatal(err)
		}
		single[ns] = info
	}
	all, err := All(opts)
	if err != nil {
		t.Fatal(err)
	}
	host, err := Host(opts)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("MatchesIP", func(t *testing.T) {
		for _, ns := range []string{tp.a, tp.b, tp.c} {
			checkAgainstIP(t, single[ns], ns)
			checkAgainstIP(t, infoByName(t, all, ns), ns)
		}
	})
	t.Run("AllEqualsNamespace", func(t *testing.T) {
		for ns, one := range single {
			got := *infoByName(t, all, ns)
			// Neighbour entries come and go with traffic between the two.
			got.Neighbours = one.Neighbours
			if !reflect.DeepEqual(&got, one) {
				t.Errorf("All and Namespace disagree on %s:%s%s", ns, describe(&got), describe(one))
			}
		}
	})
	t.Run("Peers", func(t *testing.T) {
		infos := map[string]*Info{"host": host}
		for ns, one := range single {
			infos[ns] = one
		}
		checkPeers(t, tp, infos)
		for _, ns := range []string{tp.a, tp.b, tp.c} {
			infos[ns] = infoByName(t, all, ns)
		}
		checkPeers(t, tp, infos)
	})
	t.Run("Details", func(t *testing.T) { checkDetails(t, tp, all, host) })
	t.Run("NetnsID", func(t *testing.T) { checkNetnsIDs(t, tp, all) })
	t.Run("JSON", func(t *testing.T) { checkJSON(t, tp, all) })
	t.Run("Text", func(t *testing.T) { checkText(t, tp, all) })
	t.Run("Graph", func(t *testing.T) {
		infos := []*Info{infoByName(t, all, tp.a), infoByName(t, all, tp.b), infoByName(t, all, tp.c)}
		checkGraph(t, tp, infos, host)
	})
}

// checkAgainstIP compares info with what `ip -j` reports for ns.
func checkAgainstIP(t *testing.T, info *Info, ns string) {
	t.Helper()
	var links []ipLink
	ipJSON(t, &links, "-n", ns, "addr")
	if len(links) != len(info.Links) {
		t.Errorf("%s: ip lists %d links, inspect %d:%s", ns, len(links), len(info.Links), describe(info))
	}
	for _, il := range links {
		l := linkOf(t, info, il.Name)
		var addrs []string
		for _, a := range il.AddrInfo {
			addrs = append(addrs, fmt.Sprintf("%s/%d", a.Local, a.Prefixlen))
		}
		if il.Address == "00:00:00:00:00:00" {
			il.Address = "" // inspect leaves out an all-zero MAC
		}
		if l.Index != il.Index || l.MTU != il.MTU || l.MAC != il.Address || l.Master != il.Master ||
			(l.State == "up") != has(il.Flags, "UP") || !sameSet(l.Addrs, addrs) {
			t.Errorf("%s/%s: inspect has %+v, ip has %+v", ns, il.Name, l, il)
		}
	}
	want := map[string]bool{}
	for _, family := range []string{"-4", "-6"} {
		var routes []ipRoute
		ipJSON(t, &routes, family, "-n", ns, "route")
		for _, r := range routes {
			if r.Protocol == "" {
				r.Protocol = "boot" // ip leaves the default out
			}
			want[fmt.Sprintf("%s %s %s %s %s", r.Type, r.Dst, r.Gateway, r.Dev, r.Protocol)] = true
		}
	}
	got := map[string]bool{}
	for _, r := range info.Routes {
		got[fmt.Sprintf("%s %s %s %s %s", r.Type, r.Dst, r.Via, r.Dev, r.Proto)] = true
		if r.Table != "main" {
			t.Errorf("%s: route %+v not in table main", ns, r)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s routes: inspect %v, ip %v", ns, keys(got), keys(want))
	}
}

func sameSet(a, b []string) bool {
	a, b = append([]string{}, a...), append([]string{}, b...)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, " ") == strings.Join(b, " ")
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkPeers wants every veth of the lab, host end included, to name its
// peer, and no other veth of the lab namespaces to exist.
func checkPeers(t *testing.T, tp *topo, infos map[string]*Info) {
	t.Helper()
	want := tp.peerWant()
	for ns, info := range infos {
		for _, l := range info.Links {
			key := ns + "/" + l.Name
			w, expected := want[key]
			if ns == "host" && !expected {
				continue // other people's veths
			}
			if !expected {
				if l.Peer != nil {
					t.Errorf("%s is no veth, yet has peer %+v", key, *l.Peer)
				}
				continue
			}
			if l.Peer == nil {
				t.Errorf("%s: no peer, want %s", key, w)
				continue
			}
			if got := l.Peer.NS + "/" + l.Peer.Name; got != w {
				t.Errorf("%s: peer %s, want %s", key, got, w)
			}
			if peer := infos[l.Peer.NS]; peer == nil || peer.Inode != l.Peer.Inode {
				t.Errorf("%s: peer inode %d is not that of %s", key, l.Peer.Inode, l.Peer.NS)
			}
		}
	}
	for key := range want {
		ns, name, _ := strings.Cut(key, "/")
		linkOf(t, infos[ns], name)
	}
}

func checkDetails(t *testing.T, tp *topo, all []*Info, host *Info) {
	a, b, c := infoByName(t, all, tp.a), infoByName(t, all, tp.b), infoByName(t, all, tp.c)
	if a.Sysctl["net.ipv4.ip_forward"] != "1" || b.Sysctl["net.ipv4.ip_forward"] != "0" {
		t.Errorf("ip_forward: A %q, B %q, want 1 and 0", a.Sysctl["net.ipv4.ip_forward"], b.Sysctl["net.ipv4.ip_forward"])
	}
	if _, ok := c.Sysctl["net.ipv6.conf.all.forwarding"]; !ok {
		t.Errorf("no IPv6 forwarding sysctl in %v", c.Sysctl)
	}
	pid := tp.sleep.Process.Pid
	if want := []Proc{{pid, "sleep 100"}}; !reflect.DeepEqual(c.Procs, want) {
		t.Errorf("procs of C: %v, want %v", c.Procs, want)
	}
	if len(a.Procs) != 0 || len(b.Procs) != 0 {
		t.Errorf("procs of A, B: %v, %v; want none", a.Procs, b.Procs)
	}
	_, resolvErr := os.Stat("/etc/resolv.conf")
	wantEtc := []Etc{
		{"resolv.conf", "/etc/resolv.conf", resolvErr == nil},
		{tp.prefix + "-missing", "/etc/" + tp.prefix + "-missing", false},
	}
	if !reflect.DeepEqual(a.Etc, wantEtc) || len(b.Etc) != 0 {
		t.Errorf("etc of A: %+v, want %+v; of B: %+v, want none", a.Etc, wantEtc, b.Etc)
	}
	if a.Lab != "demo" || b.Lab != "" {
		t.Errorf("labs: A %q, B %q; want demo and none", a.Lab, b.Lab)
	}
	if l := linkOf(t, a, "ab"); l.Kind != "veth" || l.Master != "br0" || l.Oper != "up" {
		t.Errorf("A/ab: %+v, want an up veth in br0", l)
	}
	if l := linkOf(t, a, "br0"); l.Kind != "bridge" {
		t.Errorf("A/br0: kind %q, want bridge", l.Kind)
	}
	if l := linkOf(t, a, "lo"); l.Kind != "loopback" {
		t.Errorf("A/lo: kind %q, want loopback", l.Kind)
	}
	if l := linkOf(t, c, "ch"); l.State != "up" || l.Oper != "down" {
		t.Errorf("C/ch (peer down): state %q oper %q, want up, down", l.State, l.Oper)
	}
	if host.Name != "host" || host.Inode != hostInode(t) || host.NetnsID != nil || len(host.Etc) != 0 {
		t.Errorf("host: name %q inode %d netnsid %v etc %v", host.Name, host.Inode, host.NetnsID, host.Etc)
	}
	me := false
	for _, p := range host.Procs {
		me = me || p.PID == os.Getpid()
	}
	if !me {
		t.Errorf("host procs lack this test (PID %d)", os.Getpid())
	}
}

// checkNetnsIDs compares with `ip netns list`, which shows the host's id
// of each namespace. C must have one: the host has a veth into it.
func checkNetnsIDs(t *testing.T, tp *topo, all []*Info) {
	var list []struct {
		Name string `json:"name"`
		ID   *int   `json:"id"`
	}
	ipJSON(t, &list, "netns", "list")
	ids := map[string]*int{}
	for _, e := range list {
		ids[e.Name] = e.ID
	}
	for _, ns := range []string{tp.a, tp.b, tp.c} {
		got, want := infoByName(t, all, ns).NetnsID, ids[ns]
		if (got == nil) != (want == nil) || (got != nil && *got != *want) {
			t.Errorf("netnsid of %s: inspect %v, ip %v", ns, ptr(got), ptr(want))
		}
	}
	if infoByName(t, all, tp.c).NetnsID == nil {
		t.Errorf("C has no netnsid although the host has a veth into it")
	}
}

func ptr(p *int) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

func checkJSON(t *testing.T, tp *topo, all []*Info) {
	var empty bytes.Buffer
	if err := WriteJSON(&empty, nil); err != nil || strings.TrimSpace(empty.String()) != "[]" {
		t.Errorf("WriteJSON(nil) = %q, %v; want []", empty.String(), err)
	}
	infos := []*Info{infoByName(t, all, tp.a), infoByName(t, all, tp.c)}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, infos); err != nil {
		t.Fatal(err)
	}
	var back []*Info
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || !reflect.DeepEqual(back, infos) {
		t.Errorf("JSON does not round-trip (%v):\n%s", err, buf.String())
	}
	var raw []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "path", "inode", "netnsid", "links", "routes", "sysctl", "procs", "etc", "lab"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("JSON of A lacks %q", k)
		}
	}
	if _, ok := raw[1]["lab"]; ok {
		t.Errorf("JSON of C has a lab: %v", raw[1]["lab"])
	}
	for _, l := range raw[0]["links"].([]any) {
		link := l.(map[string]any)
		if link["name"] != "ab" {
			continue
		}
		for _, k := range []string{"index", "kind", "state", "mtu", "mac", "master", "addrs"} {
			if _, ok := link[k]; !ok {
				t.Errorf("JSON of A/ab lacks %q", k)
			}
		}
		peer := link["peer"].(map[string]any)
		if peer["name"] != "ba" || peer["ns"] != tp.b {
			t.Errorf("JSON peer of A/ab: %v", peer)
		}
	}
	etc := raw[0]["etc"].([]any)[0].(map[string]any)
	if etc["path"] != "resolv.conf" || etc["bound_to"] != "/etc/resolv.conf" {
		t.Errorf("JSON etc of A: %v", etc)
	}
}

func checkText(t *testing.T, tp *topo, all []*Info) {
	var buf bytes.Buffer
	infos := []*Info{infoByName(t, all, tp.a), infoByName(t, all, tp.b), infoByName(t, all, tp.c)}
	if err := WriteText(&buf, infos); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	q := regexp.QuoteMeta
	for _, re := range []string{
		`(?m)^` + q(tp.a) + `  inode \d+.*  lab demo$`,
		`(?m)^  ab +up +veth +1500 +[0-9a-f:]{17} +master br0 peer ba@` + q(tp.b) + ` +fe80::\S+/64$`,
		`(?m)^  br0 +up +bridge +1500 +[0-9a-f:]{17} +- +10\.77\.1\.1/24 fd77:1::1/64 fe80::\S+/64$`,
		`(?m)^  route +10\.77\.9\.0/24 via 10\.77\.2\.2 dev bc proto boot$`,
		`(?m)^  route +fd77:9::/64 via fd77:1::1 dev ba proto boot metric 1024$`,
		`(?m)^  ch +up\(no-carrier\) +veth .* peer ` + q(tp.hostVeth) + `@host`,
		`(?m)^  proc +` + pidString(tp.sleep.Process.Pid) + ` sleep 100$`,
		`(?m)^  etc +resolv\.conf -> /etc/resolv\.conf$`,
		`(?m)^  etc +` + q(tp.prefix) + `-missing -> (/etc/\S+) \(bound by nslua exec; ` + "`ip netns exec`" + ` skips it: no /etc/\S+ on the host\)$`,
		`(?m)^  sysctl +net\.ipv4\.ip_forward=1 net\.ipv6\.conf\.all\.forwarding=\d$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("text lacks %s:\n%s", re, out)
		}
	}
}

func TestUnpinnedPeers(t *testing.T) {
	needRoot(t)
	p := uniquePrefix(t)
	hostVeth, pinFile := p+"u", "/run/"+p+"-ns"
	sleep := startUnshared(t)
	t.Cleanup(func() {
		sleep.Process.Kill()
		sleep.Wait()
		quiet("umount", pinFile)
		os.Remove(pinFile)
		quiet("ip", "link", "del", hostVeth)
	})
	pid := sleep.Process.Pid
	sh(t, "ip", "link", "add", hostVeth, "type", "veth", "peer", "name", "up0", "netns", pidString(pid))
	nsInode, err := nsfs.Inode(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		t.Fatal(err)
	}
	wantPeer(t, hostVeth, Peer{Name: "up0", NS: "pid:" + pidString(pid), Inode: nsInode})

	// Held only by a bind mount outside /run/netns, as container runtimes do.
	if err := os.WriteFile(pinFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sh(t, "mount", "--bind", fmt.Sprintf("/proc/%d/ns/net", pid), pinFile)
	sleep.Process.Kill()
	sleep.Wait()
	wantPeer(t, hostVeth, Peer{Name: "up0", NS: fmt.Sprintf("inode:%d", nsInode), Inode: nsInode})

	info, err := Namespace("mounted", pinFile, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := linkOf(t, info, "up0").Peer; got == nil || *got != (Peer{Name: hostVeth, NS: "host", Inode: hostInode(t)}) {
		t.Errorf("peer of up0 in the mounted namespace: %+v, want %s@host", got, hostVeth)
	}
}

// startUnshared runs `sleep 100` in a namespace of its own, pinned nowhere.
func startUnshared(t *testing.T) *exec.Cmd {
	cmd := exec.Command("unshare", "--net", "sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	host := hostInode(t)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		inode, err := nsfs.Inode(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid))
		if err == nil && inode != host {
			if c, _ := cmdline(cmd.Process.Pid); c == "sleep 100" {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("unshare --net sleep did not start")
		}
	}
}

func wantPeer(t *testing.T, hostVeth string, want Peer) {
	t.Helper()
	host, err := Host(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := linkOf(t, host, hostVeth).Peer; got == nil || *got != want {
		t.Errorf("peer of host/%s: %+v, want %+v", hostVeth, got, want)
	}
}

func TestErrors(t *testing.T) {
	needRoot(t)
	p := uniquePrefix(t)
	missing := p + "none"
	_, err := Namespace(missing, nsfs.PinPath(missing), Options{})
	want := fmt.Sprintf("inspect %q: /run/netns/%s does not exist", missing, missing)
	if err == nil || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing namespace: %v, want %s", err, want)
	}

	bad := p + "bad" // what an interrupted `ip netns add` leaves
	if err := os.MkdirAll(nsfs.RunDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nsfs.PinPath(bad), nil, 0o444); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(nsfs.PinPath(bad)) })
	_, err = Namespace(bad, nsfs.PinPath(bad), Options{})
	if err == nil || !errors.Is(err, ErrNotNetns) || !strings.Contains(err.Error(), "is not a namespace") {
		t.Errorf("empty pin: %v, want a not-a-namespace error", err)
	}
	all, err := All(Options{})
	if err != nil {
		t.Fatalf("All with an empty pin around: %v", err)
	}
	for _, i := range all {
		if i.Name == bad {
			t.Errorf("All lists the empty pin %s", bad)
		}
	}

	_, err = Namespace("uts", "/proc/self/ns/uts", Options{})
	if err == nil || !errors.Is(err, ErrNotNetns) {
		t.Errorf("uts namespace: %v, want a not-a-network-namespace error", err)
	}
	var buf bytes.Buffer
	if err := Graph(&buf, nil, nil, "png"); err == nil || !strings.Contains(err.Error(), `"png"`) {
		t.Errorf("Graph format png: %v, want an unknown-format error", err)
	}
}

// TestNoThreadLeftBehind checks that after inspections every thread of the
// process is back in (or never left) the host namespace.
func TestNoThreadLeftBehind(t *testing.T) {
	tp := buildTopo(t)
	for range 20 {
		if _, err := All(Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := Namespace(tp.b, nsfs.PinPath(tp.b), Options{}); err != nil {
			t.Fatal(err)
		}
	}
	host := hostInode(t)
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		strays := strayThreads(host)
		if len(strays) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("threads still in another namespace: %v", strays)
		}
	}
}

func strayThreads(hostInode uint64) []string {
	tasks, _ := os.ReadDir("/proc/self/task")
	var strays []string
	for _, task := range tasks {
		inode, err := nsfs.Inode("/proc/self/task/" + task.Name() + "/ns/net")
		if err == nil && inode != hostInode {
			strays = append(strays, task.Name())
		}
	}
	return strays
}

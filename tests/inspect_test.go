package tests

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

type inspectLink struct {
	Name  string   `json:"name"`
	Kind  string   `json:"kind"`
	State string   `json:"state"`
	Addrs []string `json:"addrs"`
	Peer  *struct {
		Name string `json:"name"`
		NS   string `json:"ns"`
	} `json:"peer"`
	Master string `json:"master"`
}

type inspectInfo struct {
	Name   string        `json:"name"`
	Links  []inspectLink `json:"links"`
	Routes []struct {
		Dst string `json:"dst"`
		Via string `json:"via"`
	} `json:"routes"`
	Procs []struct {
		PID int    `json:"pid"`
		Cmd string `json:"cmd"`
	} `json:"procs"`
}

// A topology made with plain ip commands, inspected and drawn by nslua.
func TestInspectCLIOnIpTopology(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	a, b, c := p+"a", p+"b", p+"c"
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", p+"h").Run()
		for _, n := range []string{a, b, c} {
			out, _ := exec.Command("ip", "netns", "pids", n).Output()
			for _, pid := range strings.Fields(string(out)) {
				exec.Command("kill", "-9", pid).Run()
			}
			exec.Command("ip", "netns", "del", n).Run()
		}
	})
	sh(t, `set -e
for n in `+a+` `+b+` `+c+`; do ip netns add $n; done
ip -n `+a+` link add br0 up type bridge
ip -n `+a+` addr add 10.61.0.1/24 dev br0
ip -n `+a+` addr add fd61::1/64 dev br0 nodad
for n in `+b+` `+c+`; do
  ip -n `+a+` link add p-$n type veth peer name eth0 netns $n
  ip -n `+a+` link set p-$n master br0 up
  ip -n $n link set eth0 up
done
ip -n `+b+` addr add 10.61.0.2/24 dev eth0
ip -n `+c+` addr add 10.61.0.3/24 dev eth0
ip -n `+c+` addr add fd61::3/64 dev eth0 nodad
ip -n `+c+` route add 10.62.0.0/24 via 10.61.0.1
ip link add `+p+`h type veth peer name up0 netns `+b)
	sleeper := exec.Command("ip", "netns", "exec", c, "sleep", "100")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })

	out, stderr, code := run(t, "", "inspect", "--json", a, b, c)
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	var infos []inspectInfo
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatalf("inspect --json is not JSON: %v\n%s", err, out)
	}
	byName := map[string]inspectInfo{}
	for _, info := range infos {
		byName[info.Name] = info
	}
	for _, n := range []string{a, b, c} {
		checkAddrsAgainstIp(t, n, byName[n])
	}
	peerOf := func(ns, link string) string {
		for _, l := range byName[ns].Links {
			if l.Name == link && l.Peer != nil {
				return l.Peer.Name + "@" + l.Peer.NS
			}
		}
		return ""
	}
	for want, got := range map[string]string{
		"eth0@" + b: peerOf(a, "p-"+b), "p-" + b + "@" + a: peerOf(b, "eth0"),
		"eth0@" + c: peerOf(a, "p-"+c), p + "h@host": peerOf(b, "up0"),
	} {
		if got != want {
			t.Errorf("veth peer: got %q, want %q", got, want)
		}
	}
	if !hasRoute(byName[c], "10.62.0.0/24", "10.61.0.1") {
		t.Errorf("route 10.62.0.0/24 via 10.61.0.1 missing in %s: %+v", c, byName[c].Routes)
	}
	found := false
	for _, pr := range byName[c].Procs {
		found = found || (pr.PID == sleeper.Process.Pid && strings.Contains(pr.Cmd, "sleep 100"))
	}
	if !found {
		t.Errorf("the sleep (pid %d) is not among %s's processes: %+v", sleeper.Process.Pid, c, byName[c].Procs)
	}

	checkGraph(t, a, b, c, p)
	if _, stderr, code := run(t, "", "inspect", p+"absent"); code != 1 || !strings.Contains(stderr, "does not exist") {
		t.Errorf("inspect of a missing namespace: exit %d, %q", code, stderr)
	}
	if out, _, code := run(t, "", "inspect", "--json", p+"absent"); code != 1 || strings.TrimSpace(out) != "" {
		t.Errorf("inspect --json of a missing namespace: exit %d, stdout %q", code, out)
	}
}

func checkAddrsAgainstIp(t *testing.T, ns string, info inspectInfo) {
	raw := sh(t, "ip -j -n "+ns+" addr show")
	var ipLinks []struct {
		Name  string `json:"ifname"`
		Addrs []struct {
			Local  string `json:"local"`
			Prefix int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal([]byte(raw), &ipLinks); err != nil {
		t.Fatal(err)
	}
	ours := map[string][]string{}
	for _, l := range info.Links {
		ours[l.Name] = append([]string{}, l.Addrs...)
		sort.Strings(ours[l.Name])
	}
	if len(ours) != len(ipLinks) {
		t.Errorf("%s: inspect has %d links, ip %d", ns, len(ours), len(ipLinks))
	}
	for _, l := range ipLinks {
		var want []string
		for _, a := range l.Addrs {
			want = append(want, a.Local+"/"+itoa(a.Prefix))
		}
		sort.Strings(want)
		if strings.Join(want, " ") != strings.Join(ours[l.Name], " ") {
			t.Errorf("%s %s: inspect addrs %v, ip addrs %v", ns, l.Name, ours[l.Name], want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func hasRoute(info inspectInfo, dst, via string) bool {
	for _, r := range info.Routes {
		if r.Dst == dst && r.Via == via {
			return true
		}
	}
	return false
}

// checkGraph: dot accepts the picture, and it has exactly the veth edges.
func checkGraph(t *testing.T, a, b, c, p string) {
	out, stderr, code := run(t, "", "graph", "--format", "dot")
	if code != 0 {
		t.Fatalf("graph: exit %d: %s", code, stderr)
	}
	dot := exec.Command("dot", "-Tsvg")
	dot.Stdin = strings.NewReader(out)
	if svg, err := dot.CombinedOutput(); err != nil || !strings.Contains(string(svg), "<svg") {
		t.Errorf("dot -Tsvg refused the graph: %v\n%s\n%s", err, svg, out)
	}
	// Our edges are those whose labels name our interfaces.
	edge := regexp.MustCompile(`(?m)^\s*\S+ -- \S+ \[label="([^"]*)"`)
	var ours []string
	for _, m := range edge.FindAllStringSubmatch(out, -1) {
		label := m[1]
		if strings.Contains(label, "p-"+p) || strings.Contains(label, p+"h") {
			ends := strings.Split(label, `\n`)
			for i := range ends {
				ends[i] = strings.Fields(ends[i])[0]
			}
			sort.Strings(ends)
			ours = append(ours, strings.Join(ends, "-"))
		}
	}
	sort.Strings(ours)
	want := []string{"eth0-p-" + b, "eth0-p-" + c, p + "h-up0"}
	sort.Strings(want)
	if strings.Join(ours, ",") != strings.Join(want, ",") {
		t.Errorf("graph veth edges %q, want %q\n%s", ours, want, out)
	}
}

// ls shows a kept lab with its namespaces, and pinned namespaces that
// belong to no lab; down removes the lab from the list.
func TestLsKeptLabAndFreeNamespaces(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	free := p + "free"
	sh(t, "ip netns add "+free)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", free).Run() })
	labName := p + "-lab"
	if _, stderr, code := run(t, "", "--keep", "--lab", labName, "-e", `ns.add("`+p+`a"); ns.add("`+p+`b")`); code != 0 {
		t.Fatalf("kept run: %s", stderr)
	}
	type lsOut struct {
		Labs []struct {
			Name       string   `json:"name"`
			State      string   `json:"state"`
			Namespaces []string `json:"namespaces"`
		} `json:"labs"`
		Namespaces []string `json:"namespaces"`
	}
	read := func() lsOut {
		out, stderr, code := run(t, "", "ls", "--json")
		var ls lsOut
		if code != 0 || json.Unmarshal([]byte(out), &ls) != nil {
			t.Fatalf("ls --json: exit %d, %q, %s", code, out, stderr)
		}
		return ls
	}
	ls := read()
	found := false
	for _, l := range ls.Labs {
		if l.Name == labName {
			found = true
			if l.State != "kept" || strings.Join(l.Namespaces, " ") != p+"a "+p+"b" {
				t.Errorf("lab %s: state %q, namespaces %v", labName, l.State, l.Namespaces)
			}
		}
	}
	if !found {
		t.Errorf("ls does not list the kept lab %s: %+v", labName, ls.Labs)
	}
	if !strings.Contains(" "+strings.Join(ls.Namespaces, " ")+" ", " "+free+" ") {
		t.Errorf("ls does not list %s among free namespaces: %v", free, ls.Namespaces)
	}
	if _, stderr, code := run(t, "", "down", labName); code != 0 {
		t.Fatalf("down: %s", stderr)
	}
	for _, l := range read().Labs {
		if l.Name == labName {
			t.Errorf("lab %s still listed after down", labName)
		}
	}
}

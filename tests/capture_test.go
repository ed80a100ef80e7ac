package tests

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tshark reads a capture file as Wireshark does and returns the asked
// fields of every packet; any complaint about the file fails the test.
func tshark(t *testing.T, file string, fields ...string) [][]string {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Fatal("tshark is not installed (Debian package tshark, in tests/packages.txt)")
	}
	args := []string{"-r", file, "-T", "fields", "-E", "separator=/t"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line != "" && !strings.HasPrefix(line, "Running as user") {
			t.Errorf("tshark -r %s: %s", file, line)
		}
	}
	if err != nil {
		t.Fatalf("tshark -r %s: %v", file, err)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line != "" {
			rows = append(rows, strings.Split(line, "\t"))
		}
	}
	return rows
}

// checkTimeOrder fails unless the rows' epoch times (column col) never
// go back.
func checkTimeOrder(t *testing.T, rows [][]string, col int) {
	t.Helper()
	last := 0.0
	for i, r := range rows {
		ts, err := strconv.ParseFloat(r[col], 64)
		if err != nil {
			t.Fatalf("row %d: time %q: %v", i, r[col], err)
		}
		if ts < last {
			t.Errorf("packet %d at %.9f comes after one at %.9f: not in time order", i+1, ts, last)
		}
		last = ts
	}
}

// dedup drops repeats in a row (a retransmitted DISCOVER).
func dedup(s []string) []string {
	var out []string
	for _, x := range s {
		if len(out) == 0 || out[len(out)-1] != x {
			out = append(out, x)
		}
	}
	return out
}

// A DHCP lab captured on the server's bridge and the client's interface
// at once: one pcapng with two interfaces named NS:LINK, and on both the
// whole exchange, DISCOVER, OFFER, REQUEST, ACK, in time order.
func TestCaptureDHCP(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	lab := p + "-cd"
	file := filepath.Join(t.TempDir(), "dhcp.pcapng")
	stdout, stderr, code := run(t, "", "--lab", lab, "capture_dhcp.lua", file)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	srv, cli := lab+"-srv:br0", lab+"-1:eth0"
	want := []string{"DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPACK"}
	seen := map[string][]string{}
	for _, line := range strings.Split(stdout, "\n") { // what the script's c:packets() decoded
		if f := strings.Fields(line); len(f) > 6 && strings.HasPrefix(f[6], "DHCP") {
			seen[f[1]] = append(seen[f[1]], strings.TrimSuffix(f[6], ","))
		}
	}
	for _, iface := range []string{srv, cli} {
		if got := dedup(seen[iface]); !reflect.DeepEqual(got, want) {
			t.Errorf("c:packets() on %s: %v, want %v\n%s", iface, got, want, stdout)
		}
	}

	rows := tshark(t, file, "frame.interface_name", "frame.time_epoch", "dhcp.option.dhcp")
	checkTimeOrder(t, rows, 1)
	types := map[string][]string{}
	for _, r := range rows {
		if r[0] != srv && r[0] != cli {
			t.Errorf("packet on interface %q, want %s or %s", r[0], srv, cli)
		}
		if len(r) > 2 && r[2] != "" {
			types[r[0]] = append(types[r[0]], r[2])
		}
	}
	for _, iface := range []string{srv, cli} { // DHCP message types 1, 2, 3, 5
		if got := dedup(types[iface]); !reflect.DeepEqual(got, []string{"1", "2", "3", "5"}) {
			t.Errorf("tshark: DHCP message types on %s: %v, want [1 2 3 5]", iface, got)
		}
	}
}

// The 802.1X access port captured with the filter `ether proto 0x888e`
// while the client logs in, gets a lease and pings: the EAPOL exchange is
// there, and nothing else is.
func TestCaptureEAPOL(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	file := filepath.Join(t.TempDir(), "ap.pcapng")
	stdout, stderr, code := run(t, "", "--lab", p+"-ca", "capture_ap.lua", file)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "lease 10.67.0.") {
		t.Fatalf("no lease after the login, so no other traffic was shown to the filter:\n%s", stdout)
	}
	_, after, _ := strings.Cut(stdout, "captured ")
	lines := strings.Split(strings.TrimSpace(after), "\n")
	n, _ := strconv.Atoi(lines[0])
	if n < 4 || len(lines) != n+1 {
		t.Fatalf("captured %d packets, %d listed:\n%s", n, len(lines)-1, stdout)
	}
	for _, want := range []string{": start,", "EAP Request Identity", "EAP Response Identity", "EAP Request MD5-Challenge", "EAP Success"} {
		if !strings.Contains(after, want) {
			t.Errorf("no %q among the packets:\n%s", want, after)
		}
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "eapol EAPOL ") {
			t.Errorf("not EAPOL: %s", l)
		}
	}
	rows := tshark(t, file, "frame.interface_name", "eth.type", "frame.time_epoch")
	if len(rows) != n {
		t.Errorf("tshark reads %d packets, the capture counted %d", len(rows), n)
	}
	for _, r := range rows {
		if r[0] != p+"-ca-sw:p1" || r[1] != "0x888e" {
			t.Errorf("packet on %s of type %s, want only EAPOL (0x888e) on %s", r[0], r[1], p+"-ca-sw:p1")
		}
	}
	checkTimeOrder(t, rows, 2)
}

// ipPair makes two namespaces with ip (not nslua), PREFIXa and PREFIXb,
// joined by eth0 (10.70.0.1 and .2), and a host link PREFIXh whose peer
// eth1 is in PREFIXa (10.71.0.1/24; the host end has no address): the
// capture works on namespaces and links nslua did not make.
func ipPair(t *testing.T, p string) {
	t.Helper()
	cleanupPrefix(t, p)
	t.Cleanup(func() { forceRemove(p) }) // runs first: these are the test's own
	a, b, h := p+"a", p+"b", p+"h"
	sh(t, fmt.Sprintf(`set -e
		ip netns add %[1]s; ip netns add %[2]s
		ip -n %[1]s link add eth0 type veth peer name eth0 netns %[2]s
		ip -n %[1]s addr add 10.70.0.1/24 dev eth0; ip -n %[2]s addr add 10.70.0.2/24 dev eth0
		ip -n %[1]s link set eth0 up; ip -n %[2]s link set eth0 up
		ip link add %[3]s type veth peer name eth1 netns %[1]s
		ip -n %[1]s addr add 10.71.0.1/24 dev eth1; ip -n %[1]s link set eth1 up; ip link set %[3]s up`, a, b, h))
}

// pings starts count pings from PREFIXa to addr, 0.1 s apart.
func pings(t *testing.T, p, addr string, count int) *exec.Cmd {
	cmd := exec.Command("ip", "netns", "exec", p+"a", "ping", "-c", strconv.Itoa(count), "-i", "0.1", "-W", "1", addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// `-w -` streams pcapng to a pipe that tcpdump reads; without -w each
// packet is a line; "host:LINK" captures in nslua's own namespace.
func TestCaptureStdoutAndHost(t *testing.T) {
	p := prefix(t)
	ipPair(t, p)
	pings(t, p, "10.70.0.2", 30)
	out := sh(t, fmt.Sprintf("%s capture %sa:eth0 %sb:eth0 -c 12 -w - 2>/dev/null | tcpdump -n -r - 2>&1", nslua, p, p))
	if !strings.Contains(out, "ICMP echo request") || !strings.Contains(out, "ICMP echo reply") ||
		!strings.Contains(out, "reading from file -, link-type EN10MB") {
		t.Errorf("tcpdump -r - read:\n%s", out)
	}
	if n := strings.Count(out, " IP ") + strings.Count(out, " ARP") + strings.Count(out, " IP6 "); n != 12 {
		t.Errorf("tcpdump read %d packets, want 12:\n%s", n, out)
	}

	pings(t, p, "10.71.0.9", 30) // unanswered: ARP requests go out of eth1 to the host's end
	stdout, stderr, code := run(t, "", "capture", "host:"+p+"h", "-f", "arp", "-c", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if !strings.Contains(line, " host:"+p+"h ARP, Request who-has 10.71.0.9 tell 10.71.0.1") {
			t.Errorf("summary line %q", line)
		}
	}
	if !strings.Contains(stderr, "2 packets captured on 1 link(s)") {
		t.Errorf("stderr: %s", stderr)
	}
}

// Ctrl-C ends a capture with a complete file that tshark reads.
func TestCaptureSIGINT(t *testing.T) {
	p := prefix(t)
	ipPair(t, p)
	file := filepath.Join(t.TempDir(), "int.pcapng")
	cmd := exec.Command(nslua, "capture", p+"a:eth0", p+"b:eth0", "-w", file)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() || !strings.Contains(sc.Text(), "capturing on") {
		t.Fatalf("first line on stderr: %q", sc.Text())
	}
	ping := pings(t, p, "10.70.0.2", 3)
	ping.Wait()
	cmd.Process.Signal(syscall.SIGINT)
	var rest []string
	for sc.Scan() {
		rest = append(rest, sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGINT: %v\n%s", err, strings.Join(rest, "\n"))
	}
	rows := tshark(t, file, "frame.interface_name", "frame.time_epoch", "icmp.type")
	echo := 0
	for _, r := range rows {
		if len(r) > 2 && (r[2] == "8" || r[2] == "0") {
			echo++
		}
	}
	if echo != 12 { // 3 requests and 3 replies, seen on both ends
		t.Errorf("%d echo packets in the file, want 12 (%d packets)", echo, len(rows))
	}
	checkTimeOrder(t, rows, 1)
}

// Without cgo there is no libpcap to compile filters: a clear error;
// capturing without a filter works the same.
func TestCapturePureBuild(t *testing.T) {
	p := prefix(t)
	ipPair(t, p)
	_, stderr, code := runBinary(t, nsluaPure, "", "capture", p+"a:eth0", "-f", "icmp")
	if code != 1 || !strings.Contains(stderr, "built without cgo (CGO_ENABLED=0)") {
		t.Errorf("pure build with a filter: exit %d: %s", code, stderr)
	}
	pings(t, p, "10.70.0.2", 30)
	stdout, stderr, code := runBinary(t, nsluaPure, "", "capture", p+"a:eth0", "-c", "2")
	if code != 0 || strings.Count(stdout, p+"a:eth0 ") != 2 {
		t.Errorf("pure build: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// A capture a script leaves running is stopped and flushed at teardown:
// at the script's end, and when SIGTERM ends the script. Nothing is left.
func TestCaptureStoppedAtTeardown(t *testing.T) {
	const script = `
		local P, FILE, WAIT = ...
		local a, b = ns.add(P .. "a"), ns.add(P .. "b")
		local va = a:veth("eth0", b, "eth0", {addr = "10.72.0.1/24", peer_addr = "10.72.0.2/24"})
		va:capture{file = FILE}
		assert(a:exec({"ping", "-c", "3", "-i", "0.2", "10.72.0.2"}).code == 0)
		print("pinged")
		io.stdout:flush()
		if WAIT == "sigterm" then ns.sleep(60) end`
	for _, how := range []string{"end", "sigterm"} {
		t.Run(how, func(t *testing.T) {
			p := prefix(t)
			cleanupPrefix(t, p)
			file := filepath.Join(t.TempDir(), "td.pcapng")
			cmd := exec.Command(nslua, "--lab", p+"-td", "-e", script, p, file, how)
			stdout, _ := cmd.StdoutPipe()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			if !sc.Scan() || sc.Text() != "pinged" {
				cmd.Process.Kill()
				t.Fatalf("script: %q\n%s", sc.Text(), stderr.String())
			}
			if how == "sigterm" {
				time.Sleep(100 * time.Millisecond)
				cmd.Process.Signal(syscall.SIGTERM)
			}
			cmd.Wait()
			if want := map[string]int{"end": 0, "sigterm": 143}[how]; cmd.ProcessState.ExitCode() != want {
				t.Fatalf("exit %d, want %d\n%s", cmd.ProcessState.ExitCode(), want, stderr.String())
			}
			if strings.Contains(stderr.String(), "teardown:") {
				t.Errorf("teardown complained: %s", stderr.String())
			}
			rows := tshark(t, file, "frame.interface_name", "icmp.type")
			echo := 0
			for _, r := range rows {
				if r[0] == p+"a:eth0" && len(r) > 1 && (r[1] == "8" || r[1] == "0") {
					echo++
				}
			}
			if echo != 6 {
				t.Errorf("%d echo packets flushed to the file, want 6", echo)
			}
			if _, err := os.Stat("/run/nslua/" + p + "-td"); err == nil {
				t.Errorf("/run/nslua/%s-td is left", p)
			}
		})
	}
}

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// daemon is a background process whose stderr the benchmark reads.
type daemon struct {
	cmd    *exec.Cmd
	stderr *strings.Builder
}

func startDaemon(b *testing.B, argv ...string) *daemon {
	d := &daemon{cmd: exec.Command(argv[0], argv[1:]...), stderr: &strings.Builder{}}
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.cmd.Process.Kill(); d.cmd.Wait() })
	return d
}

// waitFor polls until check holds (at most 5 s).
func waitFor(b *testing.B, what string, check func() bool) {
	for end := time.Now().Add(5 * time.Second); !check(); {
		if time.Now().After(end) {
			b.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var (
	nsluaStats   = regexp.MustCompile(`kernel: (\d+) received, (\d+) dropped`)
	tcpdumpRecv  = regexp.MustCompile(`(\d+) packets? received by filter`)
	tcpdumpDrops = regexp.MustCompile(`(\d+) packets? dropped by kernel`)
)

func atoiMatch(b *testing.B, re *regexp.Regexp, s string, group int) int {
	m := re.FindStringSubmatch(s)
	if m == nil {
		b.Fatalf("no %s in %q", re, s)
	}
	n, _ := strconv.Atoi(m[group])
	return n
}

// benchRun is one traffic pattern of BenchmarkCaptureVsTcpdump.
type benchRun struct {
	name, iperf string
	files       bool // write real files (in RAM, /dev/shm), else /dev/null
	assert      bool // the acceptance: nslua loses no more than tcpdump
}

// nslua capturing 4 links at once loses no more packets than 4 tcpdumps on
// the same links in the same run (the acceptance: 1 Gbit/s of
// iperf3 on each of two veth pairs, captured at both ends, both tools
// writing pcap files). TCP sends 64 KiB GSO frames, UDP 1400-byte
// datagrams (many more packets). The losses are the kernel's own drop
// counters (PACKET_STATISTICS) of every socket. The "max" runs send as
// fast as iperf3 can, into /dev/null: they measure, they do not assert
// (on a loaded 2-core machine nslua's one merging thread gets less CPU
// than four tcpdump processes; README, internal/capture).
// Run: go test -run '^$' -bench BenchmarkCaptureVsTcpdump -benchtime 1x ./tests/
func BenchmarkCaptureVsTcpdump(b *testing.B) {
	for _, r := range []benchRun{
		{"tcp-1g", "-b 1G", true, true},
		{"udp-1g", "-u -b 1G -l 1400", true, true},
		{"tcp-max", "", false, false},
		{"udp-max", "-u -b 0 -l 1400", false, false},
	} {
		b.Run(r.name, func(b *testing.B) {
			for range b.N {
				benchCaptureOnce(b, r)
			}
		})
	}
}

// benchOut is where a capture writes: a file in dir, or /dev/null.
func benchOut(dir, name string) string {
	if dir == "" {
		return "/dev/null"
	}
	return filepath.Join(dir, name+".pcap")
}

func benchCaptureOnce(b *testing.B, r benchRun) {
	p := prefix(b)
	cleanupPrefix(b, p)
	b.Cleanup(func() { forceRemove(p) })
	a, z := p+"a", p+"b"
	sh(b, fmt.Sprintf(`set -e; ip netns add %[1]s; ip netns add %[2]s
		for i in 0 1; do
			ip -n %[1]s link add v$i type veth peer name v$i netns %[2]s
			ip -n %[1]s addr add 10.73.$i.1/24 dev v$i; ip -n %[2]s addr add 10.73.$i.2/24 dev v$i
			ip -n %[1]s link set v$i up; ip -n %[2]s link set v$i up
			ip netns exec %[2]s iperf3 -s -D -1 -B 10.73.$i.2 -p 520$i
		done`, a, z))
	dir := ""
	if r.files { // RAM, not the disk: 1.5 GB a tool in 3 s, removed at once
		dir = filepath.Join("/dev/shm", p)
		if err := os.Mkdir(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		os.Chmod(dir, 0o777) // tcpdump writes as its own user
		b.Cleanup(func() { os.RemoveAll(dir) })
	}
	links := []string{a + ":v0", z + ":v0", a + ":v1", z + ":v1"}
	capt := startDaemon(b, append([]string{nslua, "capture", "-w", benchOut(dir, "nslua")}, links...)...)
	var dumps []*daemon
	for i, l := range links {
		ns, dev, _ := strings.Cut(l, ":")
		dumps = append(dumps, startDaemon(b, "ip", "netns", "exec", ns, "tcpdump", "-n", "-i", dev, "-w",
			benchOut(dir, fmt.Sprintf("tcpdump%d", i))))
	}
	waitFor(b, "the captures", func() bool {
		ok := strings.Contains(capt.stderr.String(), "capturing on")
		for _, d := range dumps {
			ok = ok && strings.Contains(d.stderr.String(), "listening on")
		}
		ports := sh(b, "ip netns exec "+z+" ss -Hltn")
		return ok && strings.Contains(ports, ":5200") && strings.Contains(ports, ":5201")
	})
	b.ResetTimer()
	// Both clients must succeed: a run without traffic would pass unseen.
	sh(b, fmt.Sprintf(`ip netns exec %[1]s iperf3 -c 10.73.0.2 -p 5200 -t 3 %[2]s >/dev/null & first=$!
		ip netns exec %[1]s iperf3 -c 10.73.1.2 -p 5201 -t 3 %[2]s >/dev/null; second=$?
		wait $first && [ $second = 0 ]`, a, r.iperf))
	b.StopTimer()
	for _, d := range append(dumps, capt) {
		d.cmd.Process.Signal(syscall.SIGINT)
		d.cmd.Wait()
	}
	reportDrops(b, r, capt, dumps)
}

// reportDrops reports both tools' kernel counters, and fails an asserting
// run in which nslua lost a larger share than tcpdump.
func reportDrops(b *testing.B, r benchRun, capt *daemon, dumps []*daemon) {
	nRecv := atoiMatch(b, nsluaStats, capt.stderr.String(), 1)
	nDrop := atoiMatch(b, nsluaStats, capt.stderr.String(), 2)
	tRecv, tDrop := 0, 0
	for _, d := range dumps {
		tRecv += atoiMatch(b, tcpdumpRecv, d.stderr.String(), 1)
		tDrop += atoiMatch(b, tcpdumpDrops, d.stderr.String(), 1)
	}
	b.ReportMetric(float64(nRecv), "nslua-pkts")
	b.ReportMetric(float64(nDrop), "nslua-drops")
	b.ReportMetric(float64(tRecv), "tcpdump-pkts")
	b.ReportMetric(float64(tDrop), "tcpdump-drops")
	if tDrop > 0 {
		b.ReportMetric(pct(nDrop, nRecv)/pct(tDrop, tRecv), "drop-ratio")
	}
	load, _ := os.ReadFile("/proc/loadavg")
	b.Logf("%s: nslua %d received, %d dropped (%.2f%%); tcpdump x4 %d received, %d dropped (%.2f%%); load %s",
		r.name, nRecv, nDrop, pct(nDrop, nRecv), tRecv, tDrop, pct(tDrop, tRecv), strings.Fields(string(load))[0])
	if r.assert && pct(nDrop, nRecv) > pct(tDrop, tRecv) {
		b.Errorf("nslua lost %.2f%% of the packets, tcpdump %.2f%%", pct(nDrop, nRecv), pct(tDrop, tRecv))
	}
}

func pct(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

package tests

// Issue 19, `nslua etc`: the seed's scenario from the shell, no Lua. A
// user made namespaces with `ip`, wants dnsmasq in one of them to read "its"
// /etc/dnsmasq.conf, and the host has none. Whatever needs a host target
// (--create-host-target) runs against a scratch copy of /etc bound over
// /etc (etcscratch_test.go): the test never creates /etc/dnsmasq.conf on
// the real host, and TestMain checks that the host's /etc is unchanged.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// etcListing is the part of `nslua etc NAME --json` the tests read.
type etcListing struct {
	Entries []struct {
		Path, Kind, Target, Refused, Mode string
		HostExists                        bool `json:"host_exists"`
		IPBinds                           bool `json:"ip_binds"`
		NsluaBinds                        bool `json:"nslua_binds"`
		SeenBy                            []struct {
			PID  int
			Comm string
		} `json:"seen_by"`
		OpenBy []struct{ PID, FD int } `json:"open_by"`
	}
}

func parseEtcListing(t *testing.T, out string) etcListing {
	t.Helper()
	var l etcListing
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &l); err != nil {
		t.Fatalf("nslua etc --json: %v\n%s", err, out)
	}
	return l
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (tests/packages.txt)", tool)
		}
	}
}

// etcIPPair makes namespaces P-s and P-c joined by a veth (P-v0 in P-s with
// 10.91.0.1/24, P-v1 in P-c), with ip alone.
func etcIPPair(t *testing.T, p string) (srv, cli string) {
	srv, cli = p+"-s", p+"-c"
	sh(t, fmt.Sprintf(`ip netns add %[1]s && ip netns add %[2]s &&
		ip link add %[3]s-v0 netns %[1]s type veth peer name %[3]s-v1 netns %[2]s &&
		ip -n %[1]s addr add 10.91.0.1/24 dev %[3]s-v0 && ip -n %[1]s link set %[3]s-v0 up &&
		ip -n %[2]s link set %[3]s-v1 up`, srv, cli, p))
	t.Cleanup(func() { exec.Command("ip", "netns", "del", srv).Run(); exec.Command("ip", "netns", "del", cli).Run() })
	return srv, cli
}

// startInScratch starts argv in a mount namespace where scratch is /etc,
// and stops it (by its PID) after the test.
func startInScratch(t *testing.T, scratch string, argv ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "--",
		"sh", "-c", `mount --bind "$SCRATCH" /etc && exec "$@"`, "sh"}, argv...)...)
	cmd.Env = append(os.Environ(), "SCRATCH="+scratch)
	log := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		t.Logf("%v:\n%s", argv, log)
	})
	return cmd
}

func dnsmasqConf(p, dir string) string {
	return strings.Join([]string{"keep-in-foreground", "interface=" + p + "-v0", "bind-interfaces",
		"except-interface=lo", "port=0", "no-resolv", "no-hosts",
		"dhcp-range=10.91.0.50,10.91.0.60,255.255.255.0,1h", "dhcp-authoritative", "no-ping",
		"dhcp-leasefile=" + dir + "/leases", "log-facility=-", "log-dhcp", ""}, "\n")
}

// The seed's question, answered from the shell.
func TestEtcSeedScenario(t *testing.T) {
	needTools(t, "dnsmasq", "busybox", "unshare")
	if _, err := os.Lstat("/etc/dnsmasq.conf"); err == nil {
		t.Skip("this host has an /etc/dnsmasq.conf (the dnsmasq package, not dnsmasq-base, ships one): the scenario needs a host without it")
	}
	p := prefix(t)
	cleanupPrefix(t, p)
	srv, cli := etcIPPair(t, p)
	dir := t.TempDir()

	// On the real host: the binding problem is reported, nothing is made.
	_, stderr, code := run(t, "", "etc", srv, "copy", "dnsmasq.conf")
	for _, want := range []string{"the host has no /etc/dnsmasq.conf", "ip netns exec", "binds only over /etc paths that exist", "--create-host-target"} {
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("copy on a host without /etc/dnsmasq.conf: exit %d, want 1 and %q in:\n%s", code, want, stderr)
		}
	}
	if _, err := os.Lstat("/etc/netns/" + srv); err == nil {
		t.Errorf("a refused copy made /etc/netns/%s", srv)
	}

	// The fix it offers, in the scratch /etc only.
	scratch := newScratchEtc(t)
	os.Remove(filepath.Join(scratch, "dnsmasq.conf"))
	conf := filepath.Join(dir, "conf")
	os.WriteFile(conf, []byte(dnsmasqConf(p, dir)), 0o644)
	out, code := scratchRun(t, scratch, fmt.Sprintf(`"$NSLUA" etc %s copy dnsmasq.conf --create-host-target && EDITOR="cp %s" "$NSLUA" etc %[1]s edit dnsmasq.conf`, srv, conf))
	t.Logf("copy --create-host-target, edit:\n%s", out)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if fi, err := os.Stat(filepath.Join(scratch, "dnsmasq.conf")); err != nil || fi.Size() != 0 {
		t.Errorf("the scratch host's /etc/dnsmasq.conf should be there, empty: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(scratch, "netns", srv, "dnsmasq.conf")); string(got) != dnsmasqConf(p, dir) {
		t.Errorf("the namespace's dnsmasq.conf after edit:\n%s", got)
	}

	// ip netns exec NS dnsmasq, no --conf-file: it reads the namespace's copy.
	dnsmasq := startInScratch(t, scratch, "ip", "netns", "exec", srv, "dnsmasq")
	waitUDP67(t, srv)
	lease := sh(t, fmt.Sprintf(`cp ../scripts/udhcpc.script %[1]s/udhcpc.script && chmod 755 %[1]s/udhcpc.script &&
		ip netns exec %[2]s busybox udhcpc -f -q -n -i %[3]s-v1 -t 10 -T 1 -s %[1]s/udhcpc.script >/dev/null 2>&1;
		ip -n %[2]s -4 -o addr show dev %[3]s-v1`, dir, cli, p))
	if !regexp.MustCompile(`inet 10\.91\.0\.(5\d|60)/24`).MatchString(lease) {
		t.Fatalf("the client got no lease from the namespace's dnsmasq.conf range (10.91.0.50-60): %s", lease)
	}

	// nslua etc shows it bound, dnsmasq holding it; a holder with it open.
	holder := startInScratch(t, scratch, "ip", "netns", "exec", srv, "sh", "-c", "exec 3</etc/dnsmasq.conf; exec sleep 60")
	checkSeedListing(t, scratch, srv, dnsmasq.Process.Pid, holder.Process.Pid)
	out, code = scratchRun(t, scratch, fmt.Sprintf(`"$NSLUA" etc %s diff`, srv))
	if code != 1 || !strings.Contains(out, "--- /etc/dnsmasq.conf") || !strings.Contains(out, "+dhcp-range=10.91.0.50") {
		t.Errorf("diff: exit %d, want 1 and the namespace's lines against the empty host file:\n%s", code, out)
	}
	checkPlantedSymlink(t, scratch, srv)
}

func waitUDP67(t *testing.T, ns string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out, _ := exec.Command("ip", "netns", "exec", ns, "ss", "-Hlun", "sport = :67").Output()
		if len(strings.TrimSpace(string(out))) > 0 {
			return
		}
	}
	t.Fatal("dnsmasq did not bind UDP port 67 within 5 s")
}

// checkSeedListing: the entry is bound by ip netns exec, dnsmasq sees it
// at /etc/dnsmasq.conf, and the holder has it open on fd 3.
func checkSeedListing(t *testing.T, scratch, srv string, dnsmasqPid, holderPid int) {
	t.Helper()
	var l etcListing
	var out string
	// The holder may not have reached its sleep yet: ask until it has.
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, _ = scratchRun(t, scratch, fmt.Sprintf(`"$NSLUA" etc %s --json`, srv))
		l = parseEtcListing(t, out)
		if len(l.Entries) == 1 && len(l.Entries[0].OpenBy) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(l.Entries) != 1 {
		t.Fatalf("want one entry:\n%s", out)
	}
	e := l.Entries[0]
	seen := map[int]string{}
	for _, s := range e.SeenBy {
		seen[s.PID] = s.Comm
	}
	if e.Path != "dnsmasq.conf" || !e.HostExists || !e.IPBinds || !e.NsluaBinds || seen[dnsmasqPid] != "dnsmasq" {
		t.Errorf("want dnsmasq.conf bound by ip and nslua and seen by dnsmasq[%d]:\n%s", dnsmasqPid, out)
	}
	if len(e.OpenBy) != 1 || e.OpenBy[0].PID != holderPid || e.OpenBy[0].FD != 3 {
		t.Errorf("want it open by %d on fd 3:\n%s", holderPid, out)
	}
	text, _ := scratchRun(t, scratch, fmt.Sprintf(`"$NSLUA" etc %s`, srv))
	if !regexp.MustCompile(`(?m)^dnsmasq\.conf +/etc/dnsmasq\.conf +file 0644 0:0 +binds +binds +.*dnsmasq\[` + fmt.Sprint(dnsmasqPid) + `\] \(bound at /etc/dnsmasq\.conf\)`).MatchString(text) {
		t.Errorf("the listing does not show dnsmasq.conf bound and held by dnsmasq:\n%s", text)
	}
}

// checkPlantedSymlink: a symlink in /etc/netns/NS is shown, with where it
// points, and copy refuses to write through it, --force or not.
func checkPlantedSymlink(t *testing.T, scratch, srv string) {
	t.Helper()
	if err := os.Symlink("/etc/shadow", filepath.Join(scratch, "netns", srv, "hosts")); err != nil {
		t.Fatal(err)
	}
	before := treeSums(t, scratch, "netns")
	out, _ := scratchRun(t, scratch, fmt.Sprintf(`"$NSLUA" etc %s --json`, srv))
	var link bool
	for _, e := range parseEtcListing(t, out).Entries {
		link = link || e.Path == "hosts" && e.Kind == "symlink" && e.Target == "/etc/shadow" && !e.NsluaBinds && strings.Contains(e.Refused, "symlink")
	}
	if !link {
		t.Errorf("the planted symlink is not shown as refused:\n%s", out)
	}
	text, _ := scratchRun(t, scratch, fmt.Sprintf(`"$NSLUA" etc %s`, srv))
	if !strings.Contains(text, "symlink -> /etc/shadow") || !strings.Contains(text, "REFUSED: a symlink") {
		t.Errorf("the text listing does not show the symlink refused:\n%s", text)
	}
	for _, force := range []string{"", " --force"} {
		out, code := scratchRun(t, scratch, fmt.Sprintf(`"$NSLUA" etc %s copy hosts%s`, srv, force))
		if code != 1 || !strings.Contains(out, "/etc/netns/"+srv+"/hosts is a symlink to /etc/shadow: refused") {
			t.Errorf("copy hosts%s over a planted symlink: exit %d, want 1 and a refusal:\n%s", force, code, out)
		}
	}
	out, code := scratchRun(t, scratch, fmt.Sprintf(`"$NSLUA" etc %s rm hosts`, srv))
	if _, err := os.Lstat(filepath.Join(scratch, "netns", srv, "hosts")); code != 0 || err == nil {
		t.Errorf("rm hosts: exit %d, link still there: %v\n%s", code, err == nil, out)
	}
	sameTree(t, "the scratch /etc", scratch, before, "netns")
}

// hostapdTree makes a scratch /etc/hostapd of files with distinct modes
// and owners, a subdirectory, and a symlink to one of the files.
func hostapdTree(t *testing.T, scratch string) {
	t.Helper()
	sh(t, fmt.Sprintf(`cd %s && rm -rf hostapd && mkdir -m 0750 hostapd && cd hostapd &&
		printf 'interface=eth0\ndriver=wired\n' > hostapd.conf && chmod 0600 hostapd.conf &&
		printf 'user1 MD5 "pw"\n' > eap_user && chmod 0640 eap_user && chown 1234:5678 eap_user &&
		printf '#!/bin/sh\n' > action.sh && chmod 0755 action.sh &&
		mkdir -m 0700 certs && printf 'cert\n' > certs/ca.pem && chmod 0444 certs/ca.pem &&
		ln -s hostapd.conf current.conf`, scratch))
}

// modeTree maps each path under root to its type, mode, owner and
// content (a symlink's target): what "keeps files and modes" compares.
func modeTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := sh(t, fmt.Sprintf(`cd %s && find . -mindepth 1 -printf '%%P %%y %%m %%U:%%G\n' | sort`, root))
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		data, _ := os.ReadFile(filepath.Join(root, f[0]))
		m[f[0]] = strings.Join(f[1:], " ") + " " + string(data)
	}
	return m
}

// hostapd/ copied as a directory keeps the host's files, modes and owners;
// the symlink in it is refused (nothing is written) unless --follow.
func TestEtcCopyDirectoryKeepsModes(t *testing.T) {
	needTools(t, "unshare")
	p := prefix(t)
	cleanupPrefix(t, p)
	name := p + "-a"
	sh(t, "ip netns add "+name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	scratch := newScratchEtc(t)
	hostapdTree(t, scratch)
	host := modeTree(t, filepath.Join(scratch, "hostapd"))
	before := treeSums(t, scratch, "netns")

	out, code := scratchRun(t, scratch, fmt.Sprintf(`"$NSLUA" etc %s copy hostapd/`, name))
	if code != 1 || !strings.Contains(out, "/etc/hostapd/current.conf is a symlink to hostapd.conf: refused") {
		t.Errorf("copy hostapd/ with a symlink in it: exit %d, want 1 and the symlink named:\n%s", code, out)
	}
	if _, err := os.Lstat(filepath.Join(scratch, "netns", name)); err == nil {
		t.Errorf("a refused copy wrote /etc/netns/%s", name)
	}

	out, code = scratchRun(t, scratch, fmt.Sprintf(`"$NSLUA" etc %s copy hostapd/ --follow &&
		"$NSLUA" exec %[1]s -- sh -c 'cd /etc/hostapd && find . -mindepth 1 -printf "%%P %%m %%U:%%G\n" | sort'`, name))
	t.Logf("copy hostapd/ --follow, then what nslua exec sees:\n%s", out)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	got := modeTree(t, filepath.Join(scratch, "netns", name, "hostapd"))
	want := map[string]string{}
	for k, v := range host {
		want[k] = v
	}
	want["current.conf"] = host["hostapd.conf"] // followed: a copy of what it points to
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("copied tree:\n%v\nwant:\n%v", got, want)
	}
	if !strings.Contains(out, "eap_user 640 1234:5678") || !strings.Contains(out, "certs/ca.pem 444 0:0") {
		t.Errorf("nslua exec does not see the copied tree with its modes:\n%s", out)
	}
	out, code = scratchRun(t, scratch, fmt.Sprintf(`"$NSLUA" etc %s rm hostapd && rmdir /etc/netns/%[1]s`, name))
	if code != 0 {
		t.Errorf("rm hostapd: exit %d\n%s", code, out)
	}
	sameTree(t, "the scratch /etc", scratch, before, "netns")
}

// n:etc_copy in a lab: the tree is copied with its modes, journaled, and
// gone after teardown; the lab never writes the host's /etc.
func TestEtcCopyLua(t *testing.T) {
	needTools(t, "unshare")
	p := prefix(t)
	cleanupPrefix(t, p)
	scratch := newScratchEtc(t)
	hostapdTree(t, scratch)
	before := treeSums(t, scratch, "netns")
	script := filepath.Join(t.TempDir(), "copy.lua")
	os.WriteFile(script, []byte(`
local n = ns.add(arg[1])
assert(not pcall(n.etc_copy, n, "hostapd/"), "a symlink in the host's tree must be refused")
local made = n:etc_copy("hostapd/", {follow = true})
assert(#made == 7, "made " .. #made .. ": " .. table.concat(made, "; "))
local r = n:exec("stat -c '%a %u:%g' /etc/hostapd /etc/hostapd/eap_user /etc/hostapd/certs/ca.pem", {check = true})
assert(r.stdout == "750 0:0\n640 1234:5678\n444 0:0\n", r.stdout)
local ok, err = pcall(n.etc_copy, n, "no-such-file-`+p+`")
assert(not ok and err:find("the host has no /etc/no%-such%-file"), err)
print("ok")
`), 0o644)
	out, code := scratchRun(t, scratch, fmt.Sprintf(`"$NSLUA" --lab %s-lab %s %s-n; rc=$?; ls /etc/netns 2>/dev/null; exit $rc`, p, script, p))
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if strings.Contains(out, p) {
		t.Errorf("teardown left /etc/netns entries:\n%s", out)
	}
	sameTree(t, "the scratch /etc", scratch, before, "netns")
}

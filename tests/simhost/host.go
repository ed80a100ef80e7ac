package simhost

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// setupHost runs as the simulated host's first process, in its new mount
// namespace, then becomes sshd. $1 is the Sim's directory, $2 the host's
// state directory in it, $3 the host's address. The state lives on a tmpfs
// mounted in this mount namespace only: it is gone with the host's last
// process.
const setupHost = `set -eu
d=$1 st=$2 addr=$3
mount -t tmpfs -o mode=0700 simstate "$st"
for t in etc lib root; do mkdir -p "$st/$t.up" "$st/$t.work"; done
mkdir -p "$st/sim"
cp "$d/hostkey" "$d/authorized_keys" "$st/sim/"
cat >"$st/sim/sshd_config" <<EOF
ListenAddress $addr
HostKey /run/sim/hostkey
AuthorizedKeysFile /run/sim/authorized_keys
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PrintMotd no
PrintLastLog no
PidFile none
LogLevel ERROR
EOF
mount -t overlay simetc -o "lowerdir=/etc,upperdir=$st/etc.up,workdir=$st/etc.work" /etc
mount -t overlay simlib -o "lowerdir=/var/lib,upperdir=$st/lib.up,workdir=$st/lib.work" /var/lib
mount -t overlay simroot -o "lowerdir=/root,upperdir=$st/root.up,workdir=$st/root.work" /root
mount -t tmpfs -o mode=0755 simrun /run
mkdir -p /run/sshd /run/netns /run/nslua /run/sim
cp -a "$st/sim/." /run/sim/
mount -t tmpfs -o mode=1777 simtmp /tmp
mount -t tmpfs -o mode=0755 simlog /var/log
# What other labs of the real host keep there is not this host's.
for d in /etc/netns /var/lib/nslua; do
	if [ -d "$d" ]; then mount -t tmpfs -o mode=0755 simhide "$d"; fi
done
exec /usr/sbin/sshd -D -e -f /run/sim/sshd_config
`

// startSSHD starts h's sshd in h's network namespace and a new mount
// namespace of its own.
func (s *Sim) startSSHD(h *Host) error {
	st := filepath.Join(s.dir, h.Alias)
	if err := os.Mkdir(st, 0o700); err != nil {
		return err
	}
	h.sshd = exec.Command("nsenter", "--net=/run/netns/"+h.Netns, "--",
		"unshare", "--mount", "--propagation", "private", "--",
		"sh", "-c", setupHost, "setup", s.dir, st, h.Addr)
	h.sshd.Stderr = &h.Log
	h.sshd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := h.sshd.Start(); err != nil {
		return fmt.Errorf("start sshd of %s: %w", h.Alias, err)
	}
	h.done = make(chan struct{})
	go func() { h.sshd.Wait(); close(h.done) }()
	return nil
}

// Run runs argv inside h: its network and mount namespaces, as a login
// over ssh would see the machine (but without ssh).
func (s *Sim) Run(h *Host, argv ...string) (string, error) {
	args := append([]string{"-t", strconv.Itoa(h.sshd.Process.Pid), "-m", "-n", "--"}, argv...)
	out, err := exec.Command("nsenter", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s on %s: %v: %s", strings.Join(argv, " "), h.Alias, err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Leftovers lists what h holds of any lab: pins, journals, /etc/netns and
// /var/lib/nslua entries, and processes other than sshd's. A host a lab
// has left holds none of it.
func (s *Sim) Leftovers(h *Host) []string {
	root := fmt.Sprintf("/proc/%d/root", h.sshd.Process.Pid)
	var left []string
	for _, dir := range []string{"/run/netns", "/run/nslua", "/etc/netns", "/var/lib/nslua"} {
		entries, _ := os.ReadDir(root + dir)
		for _, e := range entries {
			left = append(left, h.Alias+":"+dir+"/"+e.Name())
		}
	}
	for _, pid := range s.processes(h) {
		// sshd is the host's own: its listener and the sessions of ssh
		// connections closing now. What a lab runs is anything else that
		// still runs (no exe: it has just exited, a zombie or gone).
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && exe != "/usr/sbin/sshd" {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			left = append(left, fmt.Sprintf("%s: process %d %s", h.Alias, pid, strings.ReplaceAll(strings.TrimSpace(string(cmd)), "\x00", " ")))
		}
	}
	sort.Strings(left)
	return left
}

// namespaces lists the namespaces of h: its mount and network
// namespaces and those pinned in its /run/netns (read while sshd lives).
func (s *Sim) namespaces(h *Host) map[string]bool {
	pid := h.sshd.Process.Pid
	mine := map[string]bool{}
	for _, ns := range []string{"mnt", "net"} {
		if id, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns)); err == nil {
			mine[id] = true
		}
	}
	pins, _ := filepath.Glob(fmt.Sprintf("/proc/%d/root/run/netns/*", pid))
	for _, p := range pins {
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil {
			mine[fmt.Sprintf("net:[%d]", st.Ino)] = true
		}
	}
	return mine
}

// processes lists the PIDs that live in h: in its mount namespace, its
// network namespace, or a namespace pinned in its /run/netns.
func (s *Sim) processes(h *Host) []int {
	return processesIn(s.namespaces(h))
}

func processesIn(namespaces map[string]bool) []int {
	var found []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		for _, ns := range []string{"mnt", "net"} {
			if id, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", n, ns)); err == nil && namespaces[id] {
				found = append(found, n)
				break
			}
		}
	}
	sort.Ints(found)
	return found
}

// remove is the Sim's cleanup: every process of every host is killed by
// PID (their mount namespaces, with the hosts' pins, go with the last),
// then the hosts' and the router's pins and the controller's link.
func (s *Sim) remove() {
	all := map[string]bool{}
	for _, h := range s.Hosts {
		if h.done != nil {
			for id := range s.namespaces(h) {
				all[id] = true
			}
		}
	}
	for round := 0; round < 3; round++ {
		for _, pid := range processesIn(all) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, h := range s.Hosts {
		if h.done != nil {
			h.sshd.Process.Kill()
			<-h.done
		}
		exec.Command("ip", "netns", "del", h.Netns).Run()
	}
	exec.Command("ip", "netns", "del", s.Router).Run()
	exec.Command("ip", "link", "del", s.prefix+"-up").Run()
	os.RemoveAll(s.dir)
}

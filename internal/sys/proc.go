package sys

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ProcDir is where procfs is mounted; tests may point it elsewhere.
var ProcDir = "/proc"

// Pids lists the processes in ProcDir, ascending.
func Pids() ([]int, error) {
	d, err := os.Open(ProcDir)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// procPath is ProcDir/PID/parts.
func procPath(pid int, part string) string {
	return ProcDir + "/" + strconv.Itoa(pid) + "/" + part
}

// NetnsInode is the inode of the network namespace of process pid.
func NetnsInode(pid int) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(procPath(pid, "ns/net"), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// PidsByNetns maps the inode of every process's network namespace to the
// PIDs inside, ascending, in one pass over ProcDir. Processes that vanish
// mid-scan, and those we may not look at, are left out.
func PidsByNetns() (map[uint64][]int, error) {
	pids, err := Pids()
	if err != nil {
		return nil, err
	}
	out := map[uint64][]int{}
	for _, pid := range pids {
		if ino, err := NetnsInode(pid); err == nil {
			out[ino] = append(out[ino], pid)
		}
	}
	return out, nil
}

// stat returns the fields of ProcDir/PID/stat after the command name,
// which may itself hold spaces and parentheses: field 3 (state) first.
func stat(pid int) ([]string, bool) {
	data, err := os.ReadFile(procPath(pid, "stat"))
	if err != nil {
		return nil, false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, false
	}
	return strings.Fields(s[i+1:]), true
}

// StartTime is field 22 of /proc/PID/stat (clock ticks since boot): with
// the PID it identifies a process for good, so a recycled PID is never
// signalled by mistake. 0 when the process is gone.
func StartTime(pid int) uint64 {
	fields, ok := stat(pid)
	if !ok || len(fields) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(fields[19], 10, 64)
	return v
}

// Alive reports whether pid exists, is not a zombie and, when start is
// not 0, is the process that started then.
func Alive(pid int, start uint64) bool {
	fields, ok := stat(pid)
	if !ok || len(fields) == 0 || fields[0] == "Z" {
		return false
	}
	return start == 0 || StartTime(pid) == start
}

// PidsWithEnv lists the processes whose environment holds the entry
// "KEY=VALUE" and, when nsIno is not 0, whose network namespace has that
// inode; this process is never listed. What a process inherits survives forks and detaching, so a daemon
// that left its process group is found wherever it went.
func PidsWithEnv(entry string, nsIno uint64) []int {
	pids, err := Pids()
	if err != nil {
		return nil
	}
	want := []byte(entry + "\x00")
	self := os.Getpid()
	var out []int
	for _, pid := range pids {
		if pid == self {
			continue
		}
		env, err := os.ReadFile(procPath(pid, "environ"))
		if err != nil || !(bytes.HasPrefix(env, want) || bytes.Contains(env, append([]byte{0}, want...))) {
			continue
		}
		if nsIno != 0 {
			if ino, err := NetnsInode(pid); err != nil || ino != nsIno {
				continue
			}
		}
		out = append(out, pid)
	}
	return out
}

package inspect

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nslua/nslua/internal/sys"
)

// scanProcs maps the inode of every process's network namespace to the
// PIDs in it, ascending. Processes that vanish mid-scan are skipped.
func scanProcs() (map[uint64][]int, error) { return sys.PidsByNetns() }

// procsOf describes the given processes; one that exits meanwhile is left out.
func procsOf(pids []int) []Proc {
	out := make([]Proc, 0, len(pids))
	for _, pid := range pids {
		if cmd, ok := cmdline(pid); ok {
			out = append(out, Proc{PID: pid, Cmd: cmd})
		}
	}
	return out
}

// cmdline is the command line joined by spaces, or "[comm]" when it is
// empty (kernel threads, zombies), as ps shows them.
func cmdline(pid int) (string, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "", false
	}
	b = bytes.TrimRight(b, "\x00")
	if len(b) > 0 {
		return string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})), true
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return "", false
	}
	return "[" + strings.TrimSpace(string(comm)) + "]", true
}

// nsMount is a network namespace bind-mounted somewhere.
type nsMount struct {
	path  string
	inode uint64
}

// netnsMounts lists the network namespaces bind-mounted outside RunDir
// (container runtimes pin theirs elsewhere), one mount per namespace.
func netnsMounts(skipDir string) ([]nsMount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("list mounts: %w", err)
	}
	defer f.Close()
	var out []nsMount
	seen := map[uint64]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		m, ok := parseNetnsMount(sc.Text())
		if !ok || seen[m.inode] || strings.HasPrefix(m.path, skipDir+"/") {
			continue
		}
		seen[m.inode] = true
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read /proc/self/mountinfo: %w", err)
	}
	return out, nil
}

// parseNetnsMount reads one mountinfo line (proc(5)): an nsfs mount of a
// network namespace has the root "net:[INODE]".
func parseNetnsMount(line string) (nsMount, bool) {
	pre, post, ok := strings.Cut(line, " - ")
	if !ok || !strings.HasPrefix(post, "nsfs ") {
		return nsMount{}, false
	}
	fields := strings.Fields(pre)
	if len(fields) < 5 {
		return nsMount{}, false
	}
	root := fields[3]
	if !strings.HasPrefix(root, "net:[") || !strings.HasSuffix(root, "]") {
		return nsMount{}, false
	}
	inode, err := strconv.ParseUint(root[len("net:["):len(root)-1], 10, 64)
	if err != nil {
		return nsMount{}, false
	}
	return nsMount{path: unescapeMount(fields[4]), inode: inode}, true
}

// unescapeMount undoes the kernel's octal escapes (\040 for a space, ...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

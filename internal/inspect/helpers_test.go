package inspect

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/nslua/nslua/internal/nsfs"
)

// init keeps the main goroutine on the main thread for good. nsfs.Do ends
// its goroutine locked to a thread inside another namespace, and when that
// thread is the main one the runtime parks it forever instead of ending
// it, leaving /proc/PID/ns/net (which is the main thread's) pointing at
// that namespace. Pinning the main goroutine keeps other goroutines off
// the main thread; cmd/nslua needs the same.
func init() { runtime.LockOSThread() }

// hostInode is the namespace this test's goroutines run in.
func hostInode(tb testing.TB) uint64 {
	tb.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	inode, err := nsfs.Inode("/proc/thread-self/ns/net")
	if err != nil {
		tb.Fatal(err)
	}
	return inode
}

func needRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: makes network namespaces")
	}
}

// uniquePrefix keeps this run's namespaces and host links apart from
// everyone else's.
func uniquePrefix(tb testing.TB) string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return "ti" + hex.EncodeToString(b)
}

// sh runs a command and fails the test with its output if it fails.
func sh(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// quiet runs a cleanup command whose failure (already gone) is fine.
func quiet(name string, args ...string) {
	exec.Command(name, args...).Run()
}

// ipBatch feeds lines to `ip -batch -`.
func ipBatch(tb testing.TB, lines []string) {
	tb.Helper()
	cmd := exec.Command("ip", "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("ip -batch: %v\n%s", err, out)
	}
}

// ipJSON runs `ip -j ARGS` and decodes its output into v.
func ipJSON(tb testing.TB, v any, args ...string) {
	tb.Helper()
	// stdout only: `ip -n NS` warns on stderr about /etc/netns entries
	// it cannot bind.
	out, err := exec.Command("ip", append([]string{"-j"}, args...)...).Output()
	if err != nil {
		tb.Fatalf("ip -j %s: %v", strings.Join(args, " "), err)
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), v); err != nil {
		tb.Fatalf("ip -j %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// ipLink is what the tests compare from `ip -j addr`.
type ipLink struct {
	Index    int      `json:"ifindex"`
	Name     string   `json:"ifname"`
	Flags    []string `json:"flags"`
	MTU      int      `json:"mtu"`
	Master   string   `json:"master"`
	Address  string   `json:"address"`
	AddrInfo []struct {
		Local     string `json:"local"`
		Prefixlen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

type ipRoute struct {
	Dst      string `json:"dst"`
	Gateway  string `json:"gateway"`
	Dev      string `json:"dev"`
	Protocol string `json:"protocol"`
	Type     string `json:"type"`
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

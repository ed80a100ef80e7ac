package nsexec

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nslua/nslua/internal/nsfs"
)

func TestWorkerOnAMissingNamespace(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none")
	w := NewWorker(missing, "")
	err := w.Do(func() error { t.Error("fn ran without a namespace"); return nil })
	if err == nil || !strings.Contains(err.Error(), "open "+missing) {
		t.Errorf("Do on a missing namespace: %v", err)
	}
	w.Close()
	err = w.Do(func() error { return nil })
	if err == nil || err.Error() != "namespace "+missing+" is closed" {
		t.Errorf("Do after Close: %v", err)
	}
}

func TestReadEtcOfANamespaceWithoutEntries(t *testing.T) {
	for _, name := range []string{"", "nslua-test-no-such-namespace-" + strconv.Itoa(os.Getpid())} {
		entries, err := readEtc(name)
		if err != nil || len(entries) != 0 {
			t.Errorf("readEtc(%q) = %v, %v; want nothing", name, entries, err)
		}
	}
	if signature(nil) != "" {
		t.Error("the signature of no entries is not empty")
	}
}

// TestWorkerRunsInTheNamespace starts a program through a worker of a
// fresh namespace: it must see that namespace, and its own mount
// namespace, not the host's.
func TestWorkerRunsInTheNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a network namespace and enters it")
	}
	b := make([]byte, 3)
	rand.Read(b)
	name := "t" + hex.EncodeToString(b)
	ino, err := nsfs.Add(name, nsfs.AddHooks{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nsfs.Unpin(name) })
	w := NewWorker(nsfs.PinPath(name), name)
	defer w.Close()
	cmd := exec.Command("readlink", "/proc/self/ns/net", "/proc/self/ns/mnt")
	var out strings.Builder
	cmd.Stdout = &out
	if err := w.Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(out.String())
	hostMnt, _ := os.Readlink("/proc/self/ns/mnt")
	if len(lines) != 2 || lines[0] != "net:["+strconv.FormatUint(ino, 10)+"]" || lines[1] == hostMnt {
		t.Errorf("the program saw %q; want net:[%d] and a mount namespace other than %s", lines, ino, hostMnt)
	}
}

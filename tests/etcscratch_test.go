package tests

// A scratch directory standing in for /etc. Attacks on the host's files
// (symlinks swapped in, hard links planted) are tried against copies: the
// nslua binary runs under `unshare --mount` with the scratch copy bound
// over /etc, so even a bug cannot reach the host's files, and the test
// compares the scratch copy before and after. The test process itself
// sees the scratch directory at its own path; nslua sees it as /etc.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// newScratchEtc copies the host's /etc (without /etc/netns) into a
// temporary directory and returns its path.
func newScratchEtc(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare (util-linux) is not installed")
	}
	dir := filepath.Join(t.TempDir(), "etc")
	sh(t, fmt.Sprintf("mkdir %s && cd /etc && tar --exclude=./netns -cf - . | tar -C %s -xpf -", dir, dir))
	return dir
}

// scratchRun runs a shell script in a mount namespace of its own where
// scratch is /etc, with $NSLUA and $NSLUA_PURE naming the binaries, and
// returns its combined output and exit status.
func scratchRun(t *testing.T, scratch, script string) (string, int) {
	t.Helper()
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--",
		"sh", "-c", `mount --bind "$SCRATCH" /etc && exec sh -c "$SCRIPT"`)
	cmd.Env = append(os.Environ(), "SCRATCH="+scratch, "SCRIPT="+script,
		"NSLUA="+nslua, "NSLUA_PURE="+nsluaPure)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("unshare: %v", err)
	}
	return string(out), code
}

// treeSums maps every file under root (but skip) to a digest of its type,
// mode and content (a symlink's target): what "byte-identical" compares.
func treeSums(t testing.TB, root string, skip ...string) map[string]string {
	sums := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // vanished meanwhile
		}
		rel, _ := filepath.Rel(root, path)
		for _, s := range skip {
			if rel == s {
				return filepath.SkipDir
			}
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		switch {
		case info.Mode().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				data = []byte("unreadable: " + err.Error())
			}
			sum := sha256.Sum256(data)
			sums[rel] = info.Mode().String() + " " + hex.EncodeToString(sum[:])
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(path)
			sums[rel] = "-> " + target
		default:
			sums[rel] = info.Mode().String()
		}
		return nil
	})
	if err != nil {
		if t == nil {
			panic(fmt.Sprintf("hash %s: %v", root, err))
		}
		t.Fatalf("hash %s: %v", root, err)
	}
	return sums
}

// sumsDiffer lists what differs between two treeSums.
func sumsDiffer(before, after map[string]string) []string {
	var diff []string
	for k, v := range before {
		if w, ok := after[k]; !ok {
			diff = append(diff, "removed "+k)
		} else if w != v {
			diff = append(diff, "changed "+k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			diff = append(diff, "added "+k)
		}
	}
	sort.Strings(diff)
	return diff
}

// sameTree fails the test when root (but skip) changed since before.
func sameTree(t *testing.T, what, root string, before map[string]string, skip ...string) {
	t.Helper()
	if diff := sumsDiffer(before, treeSums(t, root, skip...)); len(diff) > 0 {
		t.Errorf("%s changed: %s", what, strings.Join(diff, ", "))
	}
}

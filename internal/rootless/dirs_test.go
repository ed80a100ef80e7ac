package rootless

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidKey(t *testing.T) {
	for _, k := range []string{"", ".", "..", "a/b", "x\x00"} {
		if ValidKey(k) == nil {
			t.Errorf("ValidKey(%q) accepted it", k)
		}
	}
	if err := ValidKey("router"); err != nil {
		t.Error(err)
	}
}

func TestUserDirsFromXDG(t *testing.T) {
	base := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", base)
	t.Setenv("XDG_STATE_HOME", filepath.Join(base, "state"))
	d, err := UserDirs()
	if err != nil {
		t.Fatal(err)
	}
	if d.Runtime != filepath.Join(base, "nslua") || d.State != filepath.Join(base, "state", "nslua") {
		t.Errorf("dirs %+v", d)
	}
	if b := d.binds("lab1"); b[2][1] != "/etc/netns" || !strings.HasPrefix(b[2][0], d.State) || !strings.HasPrefix(b[0][0], d.Runtime) {
		t.Errorf("binds %v", b)
	}
}

// A runtime directory that others can write (made in advance in /tmp by
// another user, say) is refused.
func TestPrivateDirRefusesShared(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	if err := privateDir(dir, os.Getuid()); err == nil || !strings.Contains(err.Error(), "not a private directory") {
		t.Errorf("privateDir of a 0777 directory: %v", err)
	}
}

// A holder record names a live process only while its start time matches.
func TestHolderChecksStartTime(t *testing.T) {
	d := Dirs{Runtime: t.TempDir(), State: t.TempDir()}
	os.MkdirAll(d.LabRuntime("l"), 0o700)
	if err := d.writeHolder("l", os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if pid, ok := d.Holder("l"); !ok || pid != os.Getpid() {
		t.Errorf("Holder = %d, %v; want this process", pid, ok)
	}
	os.WriteFile(filepath.Join(d.LabRuntime("l"), "holder"), []byte(fmt.Sprintf("%d 1\n", os.Getpid())), 0o600)
	if _, ok := d.Holder("l"); ok {
		t.Error("a record with another start time is taken as live")
	}
	if keys := d.Keys(); len(keys) != 1 || keys[0] != "l" {
		t.Errorf("Keys = %v", keys)
	}
	if _, _, err := d.Find(""); err == nil {
		t.Error("Find with no live lab found one")
	}
}

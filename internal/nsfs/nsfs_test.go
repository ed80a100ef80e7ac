package nsfs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// tempRunDir points RunDir at a fresh directory: listing, paths and the
// checks of Open need no root there. (Add and Attach mount: root tests
// use the real RunDir with names of their own.)
func tempRunDir(t *testing.T) string {
	t.Helper()
	old := RunDir
	RunDir = t.TempDir()
	t.Cleanup(func() { RunDir = old })
	return RunDir
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates and pins network namespaces")
	}
}

// uniqueName is a pin name no one else uses ("t" + 6 hex, as the
// integration tests' prefixes), unpinned again when the test ends.
func uniqueName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 3)
	rand.Read(b)
	name := "t" + hex.EncodeToString(b)
	t.Cleanup(func() { Unpin(name); Unpin(name + "b") })
	return name
}

func TestValidateName(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"", "empty"},
		{"a/b", "'/'"},
		{".", "reserved"},
		{"..", "reserved"},
		{"a\x00", "NUL"},
		{strings.Repeat("x", 256), "limit is 255"},
	} {
		if err := ValidateName(c.name); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ValidateName(%q) = %v, want an error saying %q", c.name, err, c.want)
		}
	}
	for _, ok := range []string{"a", "lab-1.x", "with space", "...", strings.Repeat("x", 255)} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
}

func TestListAndPinPath(t *testing.T) {
	dir := tempRunDir(t)
	if got := PinPath("a"); got != filepath.Join(dir, "a") {
		t.Errorf("PinPath = %s", got)
	}
	for _, f := range []string{"b", "a"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.Symlink("a", filepath.Join(dir, "link"))
	names, err := List()
	if err != nil || !slices.Equal(names, []string{"a", "b"}) {
		t.Fatalf("List = %q, %v; want the regular files a, b", names, err)
	}
	RunDir = filepath.Join(dir, "missing")
	if names, err := List(); err != nil || names == nil || len(names) != 0 {
		t.Fatalf("List without RunDir = %#v, %v; want an empty list", names, err)
	}
}

func TestCheckNetnsTellsWhatAPathIs(t *testing.T) {
	plain := filepath.Join(t.TempDir(), "file")
	os.WriteFile(plain, nil, 0o644)
	if _, err := CheckNetns(plain); !errors.Is(err, ErrNotNetns) || !strings.Contains(err.Error(), "not a namespace file (no nsfs mount there)") {
		t.Errorf("CheckNetns(plain file) = %v", err)
	}
	if IsPinned(plain) {
		t.Error("IsPinned(plain file)")
	}
	if _, err := CheckNetns(plain + ".none"); err == nil || errors.Is(err, ErrNotNetns) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CheckNetns(missing) = %v", err)
	}
	// a process may look at its own namespaces without privileges
	ino, err := CheckNetns("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := Inode("/proc/self/ns/net"); ino != want || ino == 0 || !IsPinned("/proc/self/ns/net") {
		t.Errorf("CheckNetns(own netns) = %d, Inode %d", ino, want)
	}
	_, err = CheckNetns("/proc/self/ns/mnt")
	if !errors.Is(err, ErrNotNetns) || err.Error() != "/proc/self/ns/mnt is a mount namespace, not a network namespace" {
		t.Errorf("CheckNetns(mount namespace) = %v", err)
	}
}

func TestOpenRefusesWhatIsNotPinned(t *testing.T) {
	dir := tempRunDir(t)
	if _, err := Open("nope"); !errors.Is(err, ErrNotFound) || err.Error() != fmt.Sprintf(`no namespace "nope" (%s/nope does not exist)`, dir) {
		t.Errorf("Open(missing) = %v", err)
	}
	os.WriteFile(filepath.Join(dir, "empty"), nil, 0o644) // what an interrupted add leaves
	if _, err := Open("empty"); !errors.Is(err, ErrNotNetns) {
		t.Errorf("Open(empty pin file) = %v", err)
	}
	if _, err := Open("a/b"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Open(invalid name) = %v", err)
	}
}

func TestTargetPath(t *testing.T) {
	self := os.Getpid()
	for _, c := range []struct{ in, want, err string }{
		{fmt.Sprint(self), fmt.Sprintf("/proc/%d/ns/net", self), ""},
		{"/run/netns/x", "/run/netns/x", ""},
		{"12ab", "12ab", ""},
		{"0", "", "PID 0 is not a process"},
		{"-3", "", "PID -3 is not a process"},
		{"999999999", "", "no process with PID 999999999"},
	} {
		got, err := TargetPath(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("TargetPath(%q) = %q, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("TargetPath(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestAddWithoutRootNamesRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may pin: nothing to refuse")
	}
	_, err := Add(uniqueName(t), AddHooks{})
	if err == nil || !strings.Contains(err.Error(), "must run as root") {
		t.Fatalf("Add without privileges: %v", err)
	}
}

// TestAddAttachUnpin makes a fresh namespace, pins it a second time, and
// removes both pins, as ip netns add/attach/del would.
func TestAddAttachUnpin(t *testing.T) {
	needRoot(t)
	name := uniqueName(t)
	var before, inside bool
	ino, err := Add(name, AddHooks{
		Before: func() error { before = true; return nil },
		Inside: func() error {
			inside = true
			self, _ := Inode("/proc/thread-self/ns/net")
			if host, _ := Inode("/proc/self/ns/net"); self == host {
				return errors.New("Inside runs in the host namespace")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !before || !inside {
		t.Errorf("hooks run: before %v, inside %v", before, inside)
	}
	if got, err := Open(name); err != nil || got != ino {
		t.Fatalf("Open = %d, %v; want %d", got, err, ino)
	}
	if _, err := Add(name, AddHooks{}); !errors.Is(err, ErrExists) || err.Error() != PinPath(name)+" already exists" {
		t.Errorf("second Add = %v", err)
	}
	if got, err := Attach(name+"b", PinPath(name), nil); err != nil || got != ino {
		t.Fatalf("Attach = %d, %v", got, err)
	}
	if _, err := Attach(name+"b", PinPath(name), nil); !errors.Is(err, ErrExists) {
		t.Errorf("second Attach = %v", err)
	}
	checkDoEnters(t, name, ino)
	for _, n := range []string{name, name + "b"} {
		if err := Unpin(n); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(PinPath(n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after Unpin: %v", PinPath(n), err)
		}
		if err := Unpin(n); err != nil {
			t.Errorf("Unpin twice: %v", err)
		}
	}
}

// checkDoEnters: fn of DoPath runs inside the namespace, and the caller's
// thread stays where it was.
func checkDoEnters(t *testing.T, name string, ino uint64) {
	t.Helper()
	var seen uint64
	err := DoPath(PinPath(name), func() (err error) {
		seen, err = Inode("/proc/thread-self/ns/net")
		return err
	})
	if err != nil || seen != ino {
		t.Errorf("DoPath ran in namespace %d (%v), want %d", seen, err, ino)
	}
	h, err := HandleAt(mustOpen(t, PinPath(name)))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil || len(links) != 1 || links[0].Attrs().Name != "lo" {
		t.Errorf("a fresh namespace holds %v (%v), want only lo", links, err)
	}
}

func mustOpen(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

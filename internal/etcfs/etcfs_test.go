package etcfs

// The primitives, on a temporary directory (no root needed): what is
// refused is refused whatever the directory.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func openTmp(t *testing.T) (string, int) {
	t.Helper()
	dir := t.TempDir()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return dir, fd
}

func TestAtFollowsNoSymlink(t *testing.T) {
	dir, fd := openTmp(t)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "f"), []byte("x"), 0o644)
	os.Symlink(outside, filepath.Join(dir, "sub"))
	os.Symlink(filepath.Join(outside, "f"), filepath.Join(dir, "f"))
	for _, path := range []string{"sub/f", "sub", "../" + filepath.Base(outside) + "/f"} {
		if got, err := At(fd, path, unix.O_RDONLY, 0); err == nil {
			unix.Close(got)
			t.Errorf("At(%q) followed a symlink or left the directory", path)
		}
	}
	// The last component with O_PATH|O_NOFOLLOW: the link itself, for Stat.
	got, err := At(fd, "f", unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(got)
	if info, err := Stat(got); err != nil || info.Mode != unix.S_IFLNK || CheckFile(info) == nil {
		t.Errorf("Stat of a symlink: %+v, %v", info, err)
	}
}

func TestCheckFile(t *testing.T) {
	dir, fd := openTmp(t)
	os.WriteFile(filepath.Join(dir, "plain"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "linked"), []byte("x"), 0o644)
	os.Link(filepath.Join(dir, "linked"), filepath.Join(dir, "other-name"))
	unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644)
	for name, want := range map[string]string{"plain": "", "linked": "2 hard links", "fifo": "FIFO"} {
		f, err := At(fd, name, unix.O_PATH, 0)
		if err != nil {
			t.Fatal(err)
		}
		info, err := Stat(f)
		unix.Close(f)
		if err != nil {
			t.Fatal(err)
		}
		err = CheckFile(info)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("CheckFile(%s) = %v, want %q", name, err, want)
		}
	}
}

func TestReadAllIsBounded(t *testing.T) {
	dir, fd := openTmp(t)
	os.WriteFile(filepath.Join(dir, "f"), []byte("0123456789"), 0o644)
	f, err := At(fd, "f", unix.O_PATH, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(f)
	if data, err := ReadAll(f, 10); err != nil || string(data) != "0123456789" {
		t.Errorf("ReadAll within the limit: %q, %v", data, err)
	}
	if _, err := ReadAll(f, 9); err == nil {
		t.Errorf("ReadAll beyond the limit succeeded")
	}
}

func TestCheckTreeFindsDeepHardLinks(t *testing.T) {
	dir, fd := openTmp(t)
	deep := filepath.Join(dir, "a", "b")
	os.MkdirAll(deep, 0o755)
	os.WriteFile(filepath.Join(deep, "ok"), []byte("x"), 0o644)
	if err := CheckTree(fd, "d"); err != nil {
		t.Errorf("a plain tree refused: %v", err)
	}
	os.Link(filepath.Join(deep, "ok"), filepath.Join(dir, "second-name"))
	if err := CheckTree(fd, "d"); err == nil || !strings.Contains(err.Error(), "hard links") {
		t.Errorf("a hard link deep inside: %v", err)
	}
}

func TestIDSame(t *testing.T) {
	a := ID{Dev: 1, Ino: 2, Birth: 3}
	for _, c := range []struct {
		b    ID
		same bool
	}{{ID{1, 2, 3}, true}, {ID{1, 2, 0}, true}, {ID{1, 2, 4}, false}, {ID{1, 3, 3}, false}, {ID{2, 2, 3}, false}} {
		if a.Same(c.b) != c.same {
			t.Errorf("%v.Same(%v) = %v", a, c.b, !c.same)
		}
	}
}

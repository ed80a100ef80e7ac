package nsexec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHostPath(t *testing.T) {
	p := &Private{Dir: "/run/nslua/L/ns/a", Share: []string{"/var/lib/foo"}}
	cases := []struct {
		path, base, rel string
		private         bool
	}{
		{"/run/x.pid", "/run/nslua/L/ns/a/run", "x.pid", true},
		{"/var/run/x.pid", "/run/nslua/L/ns/a/run", "x.pid", true},
		{"/tmp/f", "/run/nslua/L/ns/a/tmp", "f", true},
		{"/var/lib/misc/dnsmasq.leases", "/run/nslua/L/ns/a/lib", "misc/dnsmasq.leases", true},
		{"/var/lib/foo/bar", "/", "var/lib/foo/bar", false},
		{"/var/lib/foobar", "/run/nslua/L/ns/a/lib", "foobar", true},
		{"/run/netns/b", "/", "run/netns/b", false},
		{"/run/nslua/L/leases", "/", "run/nslua/L/leases", false},
		{"/runx", "/", "runx", false},
		{"/etc/hosts", "/", "etc/hosts", false},
	}
	for _, c := range cases {
		base, rel, private := p.HostPath(c.path)
		if base != c.base || rel != c.rel || private != c.private {
			t.Errorf("HostPath(%q) = %q, %q, %v; want %q, %q, %v", c.path, base, rel, private, c.base, c.rel, c.private)
		}
	}
	if _, _, private := (*Private)(nil).HostPath("/tmp/x"); private {
		t.Errorf("no private state: /tmp is the host's")
	}
}

func TestCheckShare(t *testing.T) {
	for path, want := range map[string]string{
		"/var/lib/foo": "", "/run/bar": "", "/tmp/x/y": "",
		"var/lib/foo": "absolute", "/run/../etc": "clean", "/run/": "clean",
		"/etc/hosts": "not under", "/var/run/x": "link to /run", "/tmp": "private = false",
		"/run/a\nb": "newline",
	} {
		err := CheckShare(path)
		switch {
		case want == "" && err != nil:
			t.Errorf("CheckShare(%q): %v", path, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("CheckShare(%q) = %v, want an error with %q", path, err, want)
		}
	}
}

// Remove takes the directory away through the trash (made with its
// parents), in place without one, and in place when the trash already
// holds a directory of that name that is not empty.
func TestRemoveThroughTrash(t *testing.T) {
	base := t.TempDir()
	mk := func(path string) {
		if err := os.MkdirAll(filepath.Join(path, "run"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(path, "run", "x.pid"), []byte("1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gone := func(path string) bool { _, err := os.Lstat(path); return os.IsNotExist(err) }
	trash := filepath.Join(base, "gone", "3")
	for _, c := range []struct {
		name, trash string
		stale       bool
	}{{"a", trash, false}, {"b", "", false}, {"c", trash, true}} {
		dir := filepath.Join(base, "ns", c.name)
		mk(dir)
		if c.stale {
			mk(filepath.Join(c.trash, c.name))
		}
		if err := Remove(dir, c.trash); err != nil {
			t.Fatalf("Remove(%s, %q): %v", dir, c.trash, err)
		}
		if !gone(dir) {
			t.Errorf("Remove(%s, %q) left it", dir, c.trash)
		}
		if c.trash != "" && !c.stale && !gone(filepath.Join(c.trash, c.name)) {
			t.Errorf("Remove(%s) left it in the trash", dir)
		}
	}
	if gone(trash) {
		t.Errorf("the trash %s was not made", trash)
	}
}

package nsexec

import (
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

package sys

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDpkgOwner(t *testing.T) {
	old := DpkgInfoDir
	DpkgInfoDir = t.TempDir()
	t.Cleanup(func() { DpkgInfoDir = old })
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(DpkgInfoDir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("dnsmasq-base.list", "/.\n/usr\n/usr/sbin\n/usr/sbin/dnsmasq\n/usr/share/doc/dnsmasq-base\n")
	write("libc-bin:amd64.list", "/usr/bin/getent\n")
	write("docs.list", "/usr/share/doc/ip\n")
	for prog, want := range map[string]string{
		"dnsmasq": "dnsmasq-base /usr/sbin/dnsmasq", "/usr/sbin/dnsmasq": "dnsmasq-base /usr/sbin/dnsmasq",
		"getent": "libc-bin /usr/bin/getent", "ip": "", "/usr/bin/dnsmasq": "", "frobnicate": "",
	} {
		o, ok := dpkgOwner(prog)
		got := ""
		if ok {
			got = o.Package + " " + o.Path
		}
		if got != want {
			t.Errorf("dpkgOwner(%q) = %q, want %q", prog, got, want)
		}
	}
}

// On this machine, a program every Debian system has.
func TestDpkgOwnerHere(t *testing.T) {
	if _, err := os.Stat(filepath.Join(DpkgInfoDir, "coreutils.list")); err != nil {
		t.Skip("no dpkg database here")
	}
	if o, ok := dpkgOwner("ls"); !ok || o.Package != "coreutils" {
		t.Errorf("ls: %+v %v", o, ok)
	}
}

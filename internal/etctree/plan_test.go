package etctree

import (
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	good := map[string]string{
		"dnsmasq.conf": "dnsmasq.conf", "hostapd/": "hostapd", "/etc/hosts": "hosts",
		"ssl/openssl.cnf": "ssl/openssl.cnf", "/etc/hostapd//": "hostapd",
	}
	for in, want := range good {
		if got, err := CleanPath(in); err != nil || got != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"": "empty", "/etc/": "names no file", "/": "names no file", "/dev/null": "outside /etc",
		"../shadow": "..", "a/./b": ".", "a//b": "empty", "netns/x": "inside /etc/netns", "netns": "inside /etc/netns",
		"a\x00b": "NUL",
	}
	for in, want := range bad {
		if _, err := CleanPath(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CleanPath(%q): error %v, want %q", in, err, want)
		}
	}
}

package tests

import (
	"path/filepath"
	"strings"
	"testing"
)

// Every example lab runs end to end, asserts its own outcome (a lease, a
// ping, a login; it raises otherwise) and leaves nothing behind.
func TestExamples(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string // on stdout
	}{
		{"router", nil, ""},
		{"dhcp", nil, ""},
		{"dhcp-dns", nil, "the lab's names resolve"},
		{"pin-container", nil, ""},
		{"etc-overlay", nil, ""},
		{"star", []string{"20"}, "built 20 leaves"},
		{"overlay", nil, "hello from leaf1"},
		{"link-flap", nil, "pings answered"},
		{"access-port", []string{"peap"}, ""},
		{"access-port", []string{"peap", "wrong"}, ""},
		{"access-port", []string{"md5"}, ""},
		{"access-port", []string{"md5", "wrong"}, ""},
		{"access-port", []string{"tls"}, ""},
		{"access-port", []string{"tls", "wrong"}, ""},
	}
	for _, c := range cases {
		t.Run(strings.Join(append([]string{c.name}, c.args...), "-"), func(t *testing.T) {
			p := prefix(t)
			cleanupPrefix(t, p)
			script := filepath.Join("..", "examples", c.name+".lua")
			args := append([]string{"--lab", p + "-" + c.name, script}, c.args...)
			if c.name == "star" || c.name == "link-flap" {
				args = append(args, p)
			}
			stdout, stderr, code := run(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if !strings.Contains(stdout, c.want) {
				t.Errorf("stdout lacks %q:\n%s", c.want, stdout)
			}
			t.Log(stdout)
		})
	}
}

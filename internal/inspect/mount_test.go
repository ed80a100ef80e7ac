package inspect

import "testing"

func TestParseNetnsMount(t *testing.T) {
	for _, c := range []struct {
		line  string
		want  nsMount
		isNet bool
	}{
		{`612 29 0:4 net:[4026532245] /run/docker/netns/ab\040c rw shared:313 - nsfs nsfs rw`,
			nsMount{"/run/docker/netns/ab c", 4026532245}, true},
		{`700 29 0:4 mnt:[4026532300] /run/x rw - nsfs nsfs rw`, nsMount{}, false},
		{`25 1 0:22 / /run rw,nosuid shared:5 - tmpfs tmpfs rw`, nsMount{}, false},
		{`garbage`, nsMount{}, false},
	} {
		got, ok := parseNetnsMount(c.line)
		if ok != c.isNet || got != c.want {
			t.Errorf("parseNetnsMount(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.isNet)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{
		`/a\040b`:    "/a b",
		`/tab\011x`:  "/tab\tx",
		`/back\134s`: `/back\s`,
		`/short\04`:  `/short\04`,
		`/plain`:     "/plain",
	} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}

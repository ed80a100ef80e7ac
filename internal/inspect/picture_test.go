package inspect

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// Shaping and tunnel parameters are read from whatever inspect reports
// (here supplied by the test): a shaped veth has its shaping on its edge,
// and the two ends of a VXLAN are joined.
func TestPictureShapingAndTunnels(t *testing.T) {
	saved := extraOf
	t.Cleanup(func() { extraOf = saved })
	extras := map[string]linkExtra{
		"ab":  {shaping: summary(map[string]any{"delay": "20ms", "loss": "1%"})},
		"vxa": {params: map[string]any{"vni": 42.0, "remote": "10.0.0.2"}},
		"vxb": {params: map[string]any{"vni": 42.0, "remote": "10.0.0.1"}},
		"vxc": {params: map[string]any{"vni": 7.0, "remote": "10.0.0.1"}},
	}
	extraOf = func(l Link) linkExtra { return extras[l.Name] }
	a := &Info{Name: "A", Inode: 1, Links: []Link{
		{Name: "ab", Kind: "veth", State: "up", Addrs: []string{"10.0.0.1/24"}, Peer: &Peer{Name: "ba", NS: "B", Inode: 2}},
		{Name: "vxa", Kind: "vxlan", State: "up"},
	}}
	b := &Info{Name: "B", Inode: 2, Links: []Link{
		{Name: "ba", Kind: "veth", State: "up", Addrs: []string{"10.0.0.2/24"}, Peer: &Peer{Name: "ab", NS: "A", Inode: 1}},
		{Name: "vxb", Kind: "vxlan", State: "up"},
		{Name: "vxc", Kind: "vxlan", State: "down"},
	}}
	var dot bytes.Buffer
	if err := Picture(&dot, []*Info{a, b}, nil); err != nil {
		t.Fatal(err)
	}
	src := dot.String()
	if !strings.Contains(src, `label="ab — ba\nab: delay 20ms loss 1%"`) || !strings.Contains(src, `color="#c05000", fontcolor="#c05000", penwidth=2`) {
		t.Errorf("the shaped veth's edge lacks its shaping:\n%s", src)
	}
	pair := regexp.MustCompile(`(t\d) -- (t\d) \[label="vxlan vni 42", class="tunnel pair"`).FindAllStringSubmatch(src, -1)
	if len(pair) != 1 {
		t.Errorf("want one tunnel pair edge (vxa-vxb; vxc has another VNI), got %d:\n%s", len(pair), src)
	}
	if !strings.Contains(src, `label="vxc\nvxlan\nvni 7\nremote 10.0.0.1", tooltip="vxc\nvxlan", class="tunnel", shape=cds, style="filled,dashed"`) {
		t.Errorf("the down VXLAN vxc is not a dashed tunnel node with its parameters:\n%s", src)
	}
	render := exec.Command("dot", "-Tsvg")
	render.Stdin = strings.NewReader(src)
	if out, err2 := render.CombinedOutput(); err2 != nil || !bytes.Contains(out, []byte("<svg")) {
		t.Errorf("dot refuses the picture (%v):\n%s", err2, out)
	}
}

// A link reports no extras when inspect has none for it.
func TestExtraOfPlainLink(t *testing.T) {
	if x := extraOf(Link{Name: "eth0", Kind: "veth"}); x.shaping != "" || x.params != nil {
		t.Errorf("extras of a plain link: %+v", x)
	}
	if s := summary("tbf rate 1mbit"); s != "tbf rate 1mbit" {
		t.Errorf("summary of a string: %q", s)
	}
}

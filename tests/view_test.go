package tests

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ipTopology makes three namespaces with plain ip commands: A holds a
// bridge with a veth to B and to C, B and C have a veth of their own
// (left down), B has a veth to the host, and C a VXLAN. It returns the
// namespaces and every interface name the pictures must show.
func ipTopology(t *testing.T, p string) (nss, links []string) {
	a, b, c := p+"a", p+"b", p+"c"
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", p+"h").Run()
		for _, n := range []string{a, b, c} {
			exec.Command("ip", "netns", "del", n).Run()
		}
	})
	sh(t, `set -e
for n in `+a+` `+b+` `+c+`; do ip netns add $n; done
ip -n `+a+` link add br0 up type bridge
ip -n `+a+` addr add 10.63.0.1/24 dev br0
for n in `+b+` `+c+`; do
  ip -n `+a+` link add p-$n type veth peer name eth0 netns $n
  ip -n `+a+` link set p-$n master br0 up
  ip -n $n link set eth0 up
done
ip -n `+b+` addr add 10.63.0.2/24 dev eth0
ip -n `+c+` addr add 10.63.0.3/24 dev eth0
ip -n `+c+` route add 10.64.0.0/24 via 10.63.0.1
ip -n `+b+` link add bc type veth peer name cb netns `+c+`
ip link add `+p+`h type veth peer name up0 netns `+b+`
ip -n `+c+` link add vx0 type vxlan id 42 remote 10.63.0.2 dstport 4789 dev eth0`)
	return []string{a, b, c}, []string{"br0", "p-" + b, "p-" + c, "eth0", "bc", "cb", p + "h", "up0", "vx0"}
}

// svgTexts parses an SVG with encoding/xml and returns its text content
// and its elements' id attributes.
func svgTexts(t *testing.T, svg []byte) (string, map[string]bool) {
	dec := xml.NewDecoder(bytes.NewReader(svg))
	dec.Strict = true
	var text strings.Builder
	ids := map[string]bool{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.CharData:
			text.Write(tok)
			text.WriteString(" ")
		case xml.StartElement:
			for _, a := range tok.Attr {
				if a.Name.Local == "id" {
					ids[a.Value] = true
				}
			}
		}
	}
	return text.String(), ids
}

func TestGraphPicturesOfIpTopology(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	nss, links := ipTopology(t, p)
	dir := t.TempDir()

	svgFile := filepath.Join(dir, "lab.svg")
	if _, stderr, code := run(t, "", "graph", "--format", "svg", "-o", svgFile); code != 0 {
		t.Fatalf("graph --format svg: exit %d: %s", code, stderr)
	}
	svg, err := os.ReadFile(svgFile)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := svgTexts(t, svg)
	words := " " + strings.Join(strings.Fields(text), " ") + " "
	for _, name := range append(append([]string{}, nss...), links...) {
		if !strings.Contains(words, " "+name+" ") {
			t.Errorf("the SVG does not name %s", name)
		}
	}
	for _, want := range []string{"10.63.0.1/24", "10.63.0.3/24", "vxlan", "bc — cb (down)"} {
		if !strings.Contains(words, want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}

	pngFile := filepath.Join(dir, "lab.png")
	if _, stderr, code := run(t, "", "graph", "--format", "png", "-o", pngFile); code != 0 {
		t.Fatalf("graph --format png: exit %d: %s", code, stderr)
	}
	if png, _ := os.ReadFile(pngFile); !bytes.HasPrefix(png, []byte("\x89PNG\r\n")) {
		t.Errorf("graph --format png did not write a PNG")
	}
	checkHTMLPicture(t, dir, nss)
}

// The HTML picture in headless Chromium: no console errors, every
// namespace in its DOM, and pointing at one shows its details.
func checkHTMLPicture(t *testing.T, dir string, nss []string) {
	htmlFile := filepath.Join(dir, "lab.html")
	if _, stderr, code := run(t, "", "graph", "--format", "html", "-o", htmlFile); code != 0 {
		t.Fatalf("graph --format html: exit %d: %s", code, stderr)
	}
	page, _ := os.ReadFile(htmlFile)
	// Self-contained: no URL but the SVG's XML namespace names.
	local := regexp.MustCompile(`"http://www\.w3\.org/[^"]*"`).ReplaceAll(page, nil)
	for _, ref := range []string{"://", "src=", "url("} {
		if i := bytes.Index(local, []byte(ref)); i >= 0 {
			t.Errorf("the HTML refers to something outside itself: %q", local[max(0, i-40):min(len(local), i+40)])
		}
	}
	b := startBrowser(t)
	b.open("file://" + htmlFile)
	var list []string
	b.eval(`Array.from(document.querySelectorAll("#list button")).map(b => b.textContent)`, &list)
	for _, n := range nss {
		if !strings.Contains(" "+strings.Join(list, " ")+" ", " "+n+" ") {
			t.Errorf("the page's namespace list %q lacks %s", list, n)
		}
	}
	var details string
	b.eval(`(function () {
		var b = Array.from(document.querySelectorAll("#list button")).find(b => b.textContent === "`+nss[2]+`");
		var i = Array.from(document.querySelectorAll("#list button")).indexOf(b);
		document.getElementById("ns-" + i).dispatchEvent(new MouseEvent("click", {bubbles: true}));
		return document.getElementById("details").innerText; })()`, &details)
	for _, want := range []string{nss[2], "10.63.0.3/24", "10.64.0.0/24", "vx0", "vxlan"} {
		if !strings.Contains(details, want) {
			t.Errorf("clicking %s shows details without %q:\n%s", nss[2], want, details)
		}
	}
	b.screenshot("lab.png")
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the page logged errors: %q", errs)
	}
	checkOptionalDetails(t, b, dir, page, nss[2])
	// The check itself can fail: a page with a script error is caught.
	bad := filepath.Join(dir, "bad.html")
	os.WriteFile(bad, []byte(`<!DOCTYPE html><p>x</p><script>noSuchFunction();</script>`), 0o644)
	b.open("file://" + bad)
	if len(b.consoleErrors()) == 0 {
		t.Errorf("a page with an uncaught ReferenceError logged no error: the check is blind")
	}
}

// checkOptionalDetails: the page shows the parts of inspect that other
// versions add (a link's shape and params, policy rules, listening
// sockets), given them in its data.
func checkOptionalDetails(t *testing.T, b *browser, dir string, page []byte, ns string) {
	re := regexp.MustCompile(`(?s)(<script type="application/json" id="nslua-data">)(.*?)(</script>)`)
	m := re.FindSubmatch(page)
	var data map[string]any
	if m == nil || json.Unmarshal(m[2], &data) != nil {
		t.Fatalf("no data script in the page")
	}
	for _, v := range data["infos"].([]any) {
		info := v.(map[string]any)
		if info["name"] != ns {
			continue
		}
		info["rules"] = []any{map[string]any{"priority": 100, "from": "10.1.0.0/16", "table": "42"}}
		info["listen"] = []any{map[string]any{"proto": "udp", "local": "0.0.0.0:67", "pids": []any{77}}}
		for _, l := range info["links"].([]any) {
			if l := l.(map[string]any); l["name"] == "vx0" {
				l["params"] = map[string]any{"vni": 42, "remote": "10.63.0.2"}
				l["shape"] = map[string]any{"delay": "20ms"}
			}
		}
	}
	enriched, _ := json.Marshal(data)
	file := filepath.Join(dir, "enriched.html")
	os.WriteFile(file, re.ReplaceAll(page, append(append([]byte("${1}"), enriched...), "${3}"...)), 0o644)
	b.open("file://" + file)
	var details string
	b.eval(`(function () {
		var b = Array.from(document.querySelectorAll("#list button")).find(b => b.textContent === `+jsString(ns)+`);
		b.click();
		return document.getElementById("details").innerText; })()`, &details)
	for _, want := range []string{"remote 10.63.0.2, vni 42", "delay 20ms", "Policy rules", "10.1.0.0/16", "0.0.0.0:67"} {
		if !strings.Contains(details, want) {
			t.Errorf("the details of %s lack %q:\n%s", ns, want, details)
		}
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the page logged errors: %q", errs)
	}
}

// Without Graphviz, the pictures fail in one line that names the package.
func TestGraphWithoutDot(t *testing.T) {
	cmd := exec.Command(nslua, "graph", "--format", "svg")
	cmd.Env = []string{"PATH=" + t.TempDir()}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 ||
		!strings.Contains(stderr.String(), "graphviz") {
		t.Errorf("graph --format svg without dot: %v, stderr %q", err, stderr.String())
	}
}

// nslua types writes a definition file Lua 5.1 parses, declaring the API.
func TestTypesCLI(t *testing.T) {
	file := filepath.Join(t.TempDir(), "nslua.d.lua")
	if _, stderr, code := run(t, "", "types", "-o", file); code != 0 {
		t.Fatalf("types: exit %d: %s", code, stderr)
	}
	if out, err := exec.Command("luac5.1", "-p", file).CombinedOutput(); err != nil {
		t.Fatalf("luac5.1 -p %s (Debian package lua5.1): %v\n%s", file, err, out)
	}
	src, _ := os.ReadFile(file)
	for _, want := range []string{"---@meta", "function ns.add(name, opts) end", "function Netns:exec(cmd, opts) end",
		"function Link:master(bridge) end", "function Proc:wait(timeout) end", "function nslua_topo.star(opts) end"} {
		if !bytes.Contains(src, []byte(want)) {
			t.Errorf("the types file lacks %q", want)
		}
	}
	if out, _, _ := run(t, "", "types"); out != string(src) {
		t.Errorf("nslua types to stdout differs from -o FILE")
	}
}

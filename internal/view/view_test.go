package view

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nslua/nslua/internal/inspect"
)

// topology is a lab as inspect reports one: A with a bridge and a veth to
// B on it, a veth B-C that is down, and a VXLAN in C.
func topology() []*inspect.Info {
	a := &inspect.Info{Name: "A", Inode: 1, Lab: "demo", Links: []inspect.Link{
		{Name: "lo", Kind: "loopback", State: "up", Oper: "unknown"},
		{Name: "br0", Kind: "bridge", State: "up", Oper: "up", Addrs: []string{"10.9.0.1/24"}},
		{Name: "ab", Kind: "veth", State: "up", Oper: "up", Master: "br0", Peer: &inspect.Peer{Name: "ba", NS: "B", Inode: 2}},
	}}
	b := &inspect.Info{Name: "B", Inode: 2, Links: []inspect.Link{
		{Name: "ba", Kind: "veth", State: "up", Oper: "up", Addrs: []string{"10.9.0.2/24", "fe80::1/64"}, Peer: &inspect.Peer{Name: "ab", NS: "A", Inode: 1}},
		{Name: "bc", Kind: "veth", State: "down", Oper: "down", Peer: &inspect.Peer{Name: "cb", NS: "C", Inode: 3}},
	}}
	c := &inspect.Info{Name: "C", Inode: 3, Links: []inspect.Link{
		{Name: "cb", Kind: "veth", State: "up", Oper: "lower-layer-down", Peer: &inspect.Peer{Name: "bc", NS: "B", Inode: 2}},
		{Name: "vx0", Kind: "vxlan", State: "up", Oper: "up", Addrs: []string{"10.10.0.3/24"}},
	}}
	return []*inspect.Info{a, b, c}
}

type svgElem struct {
	id, class string
	text      string
}

// parseSVG checks the SVG is well-formed XML and returns its groups
// (<g id= class=>) with the text inside each, and all its text.
func parseSVG(t *testing.T, svg []byte) ([]svgElem, string) {
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var groups []svgElem
	var open []int // indexes into groups of the <g> elements we are in
	var all strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return groups, all.String()
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local == "g" {
				e := svgElem{}
				for _, a := range tok.Attr {
					switch a.Name.Local {
					case "id":
						e.id = a.Value
					case "class":
						e.class = a.Value
					}
				}
				groups = append(groups, e)
				open = append(open, len(groups)-1)
			}
		case xml.EndElement:
			if tok.Name.Local == "g" {
				open = open[:len(open)-1]
			}
		case xml.CharData:
			for _, i := range open {
				groups[i].text += string(tok) + " "
			}
			all.WriteString(string(tok) + " ")
		}
	}
}

func TestPictureSVG(t *testing.T) {
	svg, err := Render(context.Background(), topology(), nil, "svg")
	if err != nil {
		t.Fatal(err)
	}
	groups, all := parseSVG(t, svg)
	byID := map[string]svgElem{}
	for _, g := range groups {
		byID[g.id] = g
	}
	for id, want := range map[string][]string{
		"ns-0": {"A", "lab demo"}, "ns-1": {"B", "ba", "10.9.0.2/24"}, "ns-2": {"C", "vx0", "10.10.0.3/24"},
		"br-0-br0": {"br0", "bridge", "10.9.0.1/24"},
	} {
		for _, w := range want {
			if !strings.Contains(byID[id].text, w) {
				t.Errorf("element %s lacks %q: %q", id, w, byID[id].text)
			}
		}
	}
	if strings.Contains(all, "fe80::1") {
		t.Errorf("the picture shows an IPv6 link-local address")
	}
	classes := map[string]string{}
	for _, g := range groups {
		if strings.Contains(g.class, "edge") {
			classes[strings.Join(strings.Fields(g.text), " ")] = g.class
		}
	}
	for text, class := range map[string]string{
		"ab — ba":        "edge veth",
		"bc — cb (down)": "edge veth down",
	} {
		found := false
		for got, c := range classes {
			found = found || (strings.Contains(got, text) && c == class)
		}
		if !found {
			t.Errorf("no edge %q of class %q among %q", text, class, classes)
		}
	}
	tunnel := false
	for _, g := range groups {
		tunnel = tunnel || (g.class == "node tunnel" && strings.Contains(g.text, "vx0") && strings.Contains(g.text, "vxlan"))
	}
	if !tunnel {
		t.Errorf("the VXLAN is not a tunnel node of its own")
	}
}

// Names are data, never markup: a namespace named like a script tag
// cannot end the page's data script or add one.
func TestHTMLEscapesNames(t *testing.T) {
	infos := topology()
	infos[0].Name = `</script><script>alert(1)</script>`
	svg, err := Render(context.Background(), infos, nil, "svg")
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, "t", "s", infos, svg); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(page.String(), "<script"); n != 2 {
		t.Errorf("the page has %d script elements, want 2 (data and code)", n)
	}
	if strings.Contains(page.String(), "alert(1)</script>") {
		t.Errorf("a name reached the page unescaped")
	}
}

// The server only reads, answers only to loopback names, serves JSON as
// inspect --json writes it, and pushes a change to a watching page.
func TestServer(t *testing.T) {
	var mu sync.Mutex
	infos := topology()
	src := func() ([]*inspect.Info, *inspect.Info, error) {
		mu.Lock()
		defer mu.Unlock()
		return infos, nil, nil
	}
	srv := httptest.NewServer(&Server{Source: src, Title: "demo", Interval: 50 * time.Millisecond})
	defer srv.Close()
	if resp, _ := http.Post(srv.URL+"/", "text/plain", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s, want 405", resp.Status)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	req.Host = "attacker.example:80"
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("GET with Host attacker.example: %s, want 421", resp.Status)
	}
	resp, _ := http.Get(srv.URL + "/api/inspect")
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var want bytes.Buffer
	inspect.WriteJSON(&want, topology())
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("/api/inspect:\n%s\nwant\n%s", got, want.String())
	}
	checkEvents(t, srv.URL, func() {
		mu.Lock()
		defer mu.Unlock()
		c := *infos[2]
		c.Links = append(append([]inspect.Link{}, c.Links...), inspect.Link{Name: "late0", Kind: "device", State: "up", Addrs: []string{"10.11.0.1/24"}})
		infos = []*inspect.Info{infos[0], infos[1], &c}
	})
}

func checkEvents(t *testing.T, url string, change func()) {
	resp, err := http.Get(url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := make(chan pageData)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<22)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var d pageData
				json.Unmarshal([]byte(data), &d)
				events <- d
			}
		}
		close(events)
	}()
	next := func() pageData {
		select {
		case d := <-events:
			return d
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5 s")
		}
		return pageData{}
	}
	if first := next(); len(first.Infos) != 3 || !strings.Contains(first.SVG, "<svg") || strings.Contains(first.SVG, "late0") {
		t.Fatalf("first event: %d namespaces, svg %.80q", len(first.Infos), first.SVG)
	}
	change()
	start := time.Now()
	if second := next(); !strings.Contains(second.SVG, "late0") {
		t.Errorf("the event after the change does not show late0")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the change took %v to arrive", d)
	}
}

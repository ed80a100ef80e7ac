package inspect

import (
	"bytes"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// checkGraph renders the lab both ways, has Graphviz accept the DOT, and
// wants exactly the lab's edges in both.
func checkGraph(t *testing.T, tp *topo, infos []*Info, host *Info) {
	want := []string{
		edgeKey(tp.a, "br0 10.77.1.1/24 fd77:1::1/64", "br0", ""),
		edgeKey("br0", "ab", tp.b, "ba 10.77.1.2/24 fd77:1::2/64"),
		edgeKey("br0", "ac", tp.c, "ca 10.77.1.3/24"),
		edgeKey(tp.b, "bc 10.77.2.1/24", tp.c, "cb 10.77.2.2/24 fd77:2::2/64"),
		edgeKey(tp.b, "bx", tp.b, "by"),
		edgeKey(tp.c, "ch 10.77.3.2/24", "host", tp.hostVeth),
	}
	sort.Strings(want)
	wantNodes := []string{tp.a + "|lab demo", tp.b, tp.c, "br0", "host"}
	sort.Strings(wantNodes)

	var dot bytes.Buffer
	if err := Graph(&dot, infos, host, "dot"); err != nil {
		t.Fatal(err)
	}
	render := exec.Command("dot", "-Tsvg")
	render.Stdin = bytes.NewReader(dot.Bytes())
	svg, err := render.Output()
	if err != nil || !bytes.Contains(svg, []byte("<svg")) {
		t.Errorf("dot -Tsvg rejects the graph (%v):\n%s", err, dot.String())
	}
	nodes, edges := parseDOT(t, dot.String())
	if !equalStrings(nodes, wantNodes) || !equalStrings(edges, want) {
		t.Errorf("DOT graph:\nnodes %q\nwant  %q\nedges %q\nwant  %q\n%s", nodes, wantNodes, edges, want, dot.String())
	}

	var mm bytes.Buffer
	if err := Graph(&mm, infos, host, "mermaid"); err != nil {
		t.Fatal(err)
	}
	nodes, edges = parseMermaid(t, mm.String())
	if !equalStrings(nodes, wantNodes) || !equalStrings(edges, want) {
		t.Errorf("Mermaid graph:\nnodes %q\nwant  %q\nedges %q\nwant  %q\n%s", nodes, wantNodes, edges, want, mm.String())
	}
	checkPartialGraph(t, tp, infos[1], host)
}

// checkPartialGraph draws B alone: its neighbours become outside nodes
// (dashed) named after the peer namespace, and the host, which B has no
// veth to, stays out.
func checkPartialGraph(t *testing.T, tp *topo, b, host *Info) {
	want := sorted([]string{
		edgeKey(tp.a, "ab", tp.b, "ba 10.77.1.2/24 fd77:1::2/64"),
		edgeKey(tp.b, "bc 10.77.2.1/24", tp.c, "cb"),
		edgeKey(tp.b, "bx", tp.b, "by"),
	})
	wantNodes := sorted([]string{tp.a, tp.b, tp.c})
	var dot bytes.Buffer
	if err := Graph(&dot, []*Info{b}, host, "dot"); err != nil {
		t.Fatal(err)
	}
	render := exec.Command("dot", "-Tsvg")
	render.Stdin = bytes.NewReader(dot.Bytes())
	if err := render.Run(); err != nil {
		t.Errorf("dot -Tsvg rejects the graph of B alone (%v):\n%s", err, dot.String())
	}
	nodes, edges := parseDOT(t, dot.String())
	dashed := strings.Count(dot.String(), "dashed")
	if !equalStrings(nodes, wantNodes) || !equalStrings(edges, want) || dashed != 2 {
		t.Errorf("DOT graph of B alone (%d dashed nodes, want 2):\nnodes %q\nwant  %q\nedges %q\nwant  %q\n%s",
			dashed, nodes, wantNodes, edges, want, dot.String())
	}
}

// edgeKey names an edge by its ends, each "node label: interface text",
// in a canonical order; a membership edge (bText "") by its one label.
func edgeKey(a, aText, b, bText string) string {
	if bText == "" {
		return "member " + a + " " + b + ": " + aText
	}
	x, y := a+": "+aText, b+": "+bText
	if y < x {
		x, y = y, x
	}
	return "veth " + x + " <-> " + y
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

var (
	dotNodeRE = regexp.MustCompile(`^\t(n\d+) \[label="((?:[^"\\]|\\.)*)"[^\]]*\];$`)
	dotEdgeRE = regexp.MustCompile(`^\t(n\d+) -- (n\d+) \[label="((?:[^"\\]|\\.)*)"(, style=dotted)?\];$`)
	mmNodeRE  = regexp.MustCompile(`^\t(n\d+)(?:\(|\[\[|\{\{)"([^"]*)"(?:\)|\]\]|\}\})$`)
	mmEdgeRE  = regexp.MustCompile(`^\t(n\d+) (---|-\.-)\|"([^"]*)"\| (n\d+)$`)
)

func parseDOT(t *testing.T, text string) (nodes, edges []string) {
	unquote := strings.NewReplacer(`\"`, `"`, `\\`, `\`)
	split := func(s string) []string {
		parts := strings.Split(s, `\n`)
		for i := range parts {
			parts[i] = unquote.Replace(parts[i])
		}
		return parts
	}
	labels := map[string][]string{}
	for _, line := range strings.Split(text, "\n") {
		if m := dotNodeRE.FindStringSubmatch(line); m != nil {
			labels[m[1]] = split(m[2])
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if m := dotEdgeRE.FindStringSubmatch(line); m != nil {
			edges = append(edges, graphEdgeKey(t, labels[m[1]], labels[m[2]], split(m[3]), m[4] != ""))
		}
	}
	return nodeNames(labels), sorted(edges)
}

func parseMermaid(t *testing.T, text string) (nodes, edges []string) {
	unquote := strings.NewReplacer("#quot;", `"`, "#lt;", "<", "#gt;", ">", "#124;", "|", "#35;", "#")
	split := func(s string) []string {
		parts := strings.Split(s, "<br>")
		for i := range parts {
			parts[i] = unquote.Replace(parts[i])
		}
		return parts
	}
	labels := map[string][]string{}
	for _, line := range strings.Split(text, "\n") {
		if m := mmNodeRE.FindStringSubmatch(line); m != nil {
			labels[m[1]] = split(m[2])
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if m := mmEdgeRE.FindStringSubmatch(line); m != nil {
			edges = append(edges, graphEdgeKey(t, labels[m[1]], labels[m[4]], split(m[3]), m[2] == "-.-"))
		}
	}
	return nodeNames(labels), sorted(edges)
}

func graphEdgeKey(t *testing.T, from, to, label []string, member bool) string {
	if from == nil || to == nil {
		t.Errorf("edge to an undeclared node: %q -- %q", from, to)
		return "?"
	}
	if member {
		return edgeKey(from[0], strings.Join(label, "|"), to[0], "")
	}
	if len(label) != 2 {
		t.Errorf("veth edge label %q has not two ends", label)
		return "?"
	}
	return edgeKey(from[0], label[0], to[0], label[1])
}

func nodeNames(labels map[string][]string) []string {
	var out []string
	for _, l := range labels {
		out = append(out, strings.Join(l, "|"))
	}
	return sorted(out)
}

func sorted(s []string) []string {
	sort.Strings(s)
	return s
}

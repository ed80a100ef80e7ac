package inspect

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// Graph writes the topology of infos as a Graphviz DOT or a Mermaid
// flowchart. Nodes are the namespaces of infos, each bridge of theirs, the
// host if an edge reaches it (host may be nil), and any other namespace a
// veth of theirs leads to, drawn dashed. Edges are the veth pairs, exactly
// one per pair, labelled with each end's interface name and addresses (the
// end of the first node first), and one dotted edge per bridge to the
// namespace it is in. Pass the host as host rather than among infos: it is
// then drawn only when a veth of infos leads to it, and its links to
// namespaces outside infos are left out.
func Graph(w io.Writer, infos []*Info, host *Info, format string) error {
	var write func(io.Writer, *graph) error
	switch format {
	case "dot":
		write = writeDOT
	case "mermaid":
		write = writeMermaid
	default:
		return fmt.Errorf("graph: unknown format %q (want dot or mermaid)", format)
	}
	return write(w, buildGraph(infos, host))
}

type nodeKind int

const (
	nsNode nodeKind = iota
	hostNode
	bridgeNode
	otherNode // a namespace outside infos
)

type graphNode struct {
	id    string
	label []string
	kind  nodeKind
	info  *Info // the namespace of an nsNode or hostNode, the one holding a bridgeNode
	link  *Link // the bridge of a bridgeNode
}

type graphEdge struct {
	from, to *graphNode
	label    []string
	member   bool  // a bridge in its namespace, not a veth pair
	a, b     *Link // the pair's ends (b nil when its namespace is not inspected); a is the bridge of a member edge
}

type graph struct {
	nodes []*graphNode
	edges []graphEdge

	hostKey nsKey
	infos   map[nsKey]*Info // infos and the host
	nsNodes map[nsKey]*graphNode
	bridges map[string]*graphNode // "host/inode/name"
	others  map[string]*graphNode // by peer.NS
	pairs   map[string]bool
}

// nsKey names a namespace among several machines' (a lab across hosts):
// inode numbers are only unique on one.
type nsKey struct {
	host  string
	inode uint64
}

func keyOf(info *Info) nsKey { return nsKey{info.Host, info.Inode} }

func (k nsKey) String() string { return k.host + "/" + strconv.FormatUint(k.inode, 10) }

func buildGraph(infos []*Info, host *Info) *graph {
	g := &graph{
		infos:   map[nsKey]*Info{},
		nsNodes: map[nsKey]*graphNode{},
		bridges: map[string]*graphNode{},
		others:  map[string]*graphNode{},
		pairs:   map[string]bool{},
	}
	if host != nil {
		g.hostKey = keyOf(host)
	}
	var shown []*Info
	for _, info := range infos {
		if _, dup := g.infos[keyOf(info)]; !dup {
			g.infos[keyOf(info)] = info
			shown = append(shown, info)
		}
	}
	for _, info := range shown {
		g.nsNode(info)
	}
	for _, info := range shown {
		for _, l := range info.Links {
			if l.Kind == "bridge" {
				g.bridge(info, l)
			}
		}
	}
	if host != nil {
		if _, dup := g.infos[keyOf(host)]; !dup {
			g.infos[keyOf(host)] = host
		}
	}
	for _, info := range shown {
		for _, l := range info.Links {
			if l.Peer != nil {
				g.vethPair(info, l)
			}
		}
	}
	return g
}

func (g *graph) node(kind nodeKind, label ...string) *graphNode {
	n := &graphNode{id: "n" + strconv.Itoa(len(g.nodes)), label: label, kind: kind}
	g.nodes = append(g.nodes, n)
	return n
}

// nsNode is the node of a namespace, made on first use.
func (g *graph) nsNode(info *Info) *graphNode {
	if n, ok := g.nsNodes[keyOf(info)]; ok {
		return n
	}
	kind, label := nsNode, []string{info.Name}
	if keyOf(info) == g.hostKey {
		kind, label = hostNode, []string{"host"}
	}
	if info.Lab != "" {
		label = append(label, "lab "+info.Lab)
	}
	if info.Host != "" {
		label = append(label, "on host "+info.Host)
	}
	for _, l := range info.Links {
		if l.Master == "" && l.Peer == nil && (l.Params != nil || l.Parent != "") {
			label = append(label, kindLabel(l)) // tunnels, VLANs, VRFs...
		}
	}
	n := g.node(kind, label...)
	n.info = info
	g.nsNodes[keyOf(info)] = n
	return n
}

// bridge is the node of bridge br in info, made on first use together
// with its membership edge. Ports that are not veths (and so get no edge
// of their own) are listed in its label.
func (g *graph) bridge(info *Info, br Link) *graphNode {
	key := keyOf(info).String() + "/" + br.Name
	if n, ok := g.bridges[key]; ok {
		return n
	}
	label := []string{br.Name}
	var ports []string
	for _, l := range info.Links {
		if l.Master == br.Name && l.Peer == nil {
			ports = append(ports, kindLabel(l))
		}
	}
	if len(ports) > 0 {
		label = append(label, "ports "+strings.Join(ports, " "))
	}
	n := g.node(bridgeNode, label...)
	n.info, n.link = info, &br
	g.bridges[key] = n
	g.edges = append(g.edges, graphEdge{from: g.nsNode(info), to: n, label: []string{endText(br)}, member: true, a: &br})
	return n
}

// endpoint is the node a link hangs off: its bridge, else its namespace.
func (g *graph) endpoint(info *Info, l Link) *graphNode {
	if l.Master != "" {
		for _, m := range info.Links {
			if m.Name == l.Master && m.Kind == "bridge" {
				return g.bridge(info, m)
			}
		}
	}
	return g.nsNode(info)
}

// vethPair adds the edge of the pair l belongs to, unless the other end
// already added it.
func (g *graph) vethPair(info *Info, l Link) {
	aKey := keyOf(info).String() + "/" + l.Name
	from := g.endpoint(info, l)
	label := []string{endText(l)}
	var to *graphNode
	var bKey string
	var b *Link
	if peerInfo, ok := g.infos[nsKey{info.Host, l.Peer.Inode}]; ok && l.Peer.Inode != 0 {
		bKey = keyOf(peerInfo).String() + "/" + l.Peer.Name
		peerLink, found := linkByName(peerInfo, l.Peer.Name)
		if found {
			to = g.endpoint(peerInfo, peerLink)
			label = append(label, endText(peerLink))
			b = &peerLink
		} else {
			to = g.nsNode(peerInfo)
			label = append(label, l.Peer.Name)
		}
	} else {
		bKey = "other:" + l.Peer.NS + "/" + l.Peer.Name
		to = g.other(l.Peer.NS)
		label = append(label, l.Peer.Name)
	}
	pair := aKey + " " + bKey
	if bKey < aKey {
		pair = bKey + " " + aKey
	}
	if g.pairs[pair] {
		return
	}
	g.pairs[pair] = true
	g.edges = append(g.edges, graphEdge{from: from, to: to, label: label, a: &l, b: b})
}

func (g *graph) other(ns string) *graphNode {
	if n, ok := g.others[ns]; ok {
		return n
	}
	n := g.node(otherNode, ns)
	g.others[ns] = n
	return n
}

func linkByName(info *Info, name string) (Link, bool) {
	for _, l := range info.Links {
		if l.Name == name {
			return l, true
		}
	}
	return Link{}, false
}

// endText is an interface with its addresses, minus IPv6 link-local ones
// (every IPv6 link has one; they would only clutter the picture).
func endText(l Link) string {
	parts := []string{kindLabel(l)}
	for _, a := range l.Addrs {
		ip, _, err := net.ParseCIDR(a)
		if err == nil && ip.To4() == nil && ip.IsLinkLocalUnicast() {
			continue
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func writeDOT(w io.Writer, g *graph) error {
	var b strings.Builder
	b.WriteString("graph nslua {\n\trankdir=LR;\n\tnode [shape=box, style=rounded];\n")
	for _, n := range g.nodes {
		fmt.Fprintf(&b, "\t%s [label=%s%s];\n", n.id, dotString(n.label), dotNodeStyle[n.kind])
	}
	for _, e := range g.edges {
		style := ""
		if e.member {
			style = ", style=dotted"
		}
		fmt.Fprintf(&b, "\t%s -- %s [label=%s%s];\n", e.from.id, e.to.id, dotString(e.label), style)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

var dotNodeStyle = map[nodeKind]string{
	nsNode:     "",
	hostNode:   ", shape=house, style=solid",
	bridgeNode: ", shape=diamond, style=solid",
	otherNode:  `, style="rounded,dashed"`,
}

// dotString quotes lines as one DOT string, lines centred.
func dotString(lines []string) string {
	esc := make([]string, len(lines))
	for i, l := range lines {
		esc[i] = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(l)
	}
	return `"` + strings.Join(esc, `\n`) + `"`
}

func writeMermaid(w io.Writer, g *graph) error {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	var others []string
	for _, n := range g.nodes {
		open, close := mermaidShape(n.kind)
		fmt.Fprintf(&b, "\t%s%s%s%s\n", n.id, open, mermaidString(n.label), close)
		if n.kind == otherNode {
			others = append(others, n.id)
		}
	}
	for _, e := range g.edges {
		link := "---"
		if e.member {
			link = "-.-"
		}
		fmt.Fprintf(&b, "\t%s %s|%s| %s\n", e.from.id, link, mermaidString(e.label), e.to.id)
	}
	if len(others) > 0 {
		b.WriteString("\tclassDef outside stroke-dasharray: 5 5\n")
		fmt.Fprintf(&b, "\tclass %s outside\n", strings.Join(others, ","))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mermaidShape(k nodeKind) (string, string) {
	switch k {
	case hostNode:
		return "[[", "]]"
	case bridgeNode:
		return "{{", "}}"
	}
	return "(", ")"
}

// mermaidString quotes lines as one Mermaid string: entity codes for the
// characters Mermaid or its HTML labels would interpret, <br> between lines.
func mermaidString(lines []string) string {
	r := strings.NewReplacer(`#`, "#35;", `"`, "#quot;", `<`, "#lt;", `>`, "#gt;", `|`, "#124;")
	esc := make([]string, len(lines))
	for i, l := range lines {
		esc[i] = r.Replace(l)
	}
	return `"` + strings.Join(esc, "<br>") + `"`
}

package inspect

import (
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
)

// Picture writes the topology of infos (see Graph for which nodes and
// edges there are) as a Graphviz DOT made to be rendered, for the SVG, PNG
// and HTML pictures: each namespace a box listing its interfaces with
// their addresses, each bridge a box with its own, each veth pair an edge
// labelled with both ends' names, tunnels (VXLAN, GRE, ...) a node of
// their own hanging off their namespace, links that are down dashed, and
// the shaping of a link, where inspect reports one, on its edge.
//
// Elements get SVG ids a page can find them by: "ns-I" for infos[I],
// "host" for the host, "br-I-NAME" for bridge NAME of infos[I].
func Picture(w io.Writer, infos []*Info, host *Info) error {
	g := buildGraph(infos, host)
	index := map[nsKey]int{}
	for i, info := range infos {
		if _, dup := index[keyOf(info)]; !dup {
			index[keyOf(info)] = i
		}
	}
	var b strings.Builder
	b.WriteString("graph nslua {\n\trankdir=LR; nodesep=0.4; ranksep=0.9; bgcolor=\"white\";\n" +
		"\tnode [fontname=\"Helvetica\", fontsize=11];\n\tedge [fontname=\"Helvetica\", fontsize=9];\n")
	for _, n := range g.nodes {
		b.WriteString("\t" + n.id + " [" + pictureNode(n, index) + "];\n")
	}
	for _, e := range g.edges {
		b.WriteString("\t" + e.from.id + " -- " + e.to.id + " [" + pictureEdge(e) + "];\n")
	}
	writeTunnels(&b, g)
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// tunnelKinds are the link kinds drawn as a node of their own: their
// other end is somewhere across the network, not a peer in a namespace.
var tunnelKinds = map[string]bool{
	"vxlan": true, "geneve": true, "gre": true, "gretap": true, "ip6gre": true, "ip6gretap": true,
	"ipip": true, "sit": true, "ip6tnl": true, "vti": true, "vti6": true, "wireguard": true,
	"erspan": true, "ip6erspan": true, "bareudp": true, "gtp": true,
}

func pictureNode(n *graphNode, index map[nsKey]int) string {
	switch n.kind {
	case hostNode:
		return `id="host", label="host", tooltip="host", shape=house, style=filled, fillcolor="#eeeeee", color="#666666"`
	case otherNode:
		return "label=" + dotString(n.label) + `, tooltip="not shown: ` + dotEsc(n.label[0]) + `", shape=box, style="rounded,dashed", color="#888888", fontcolor="#666666"`
	case bridgeNode:
		i := index[keyOf(n.info)]
		style := "filled"
		if isDown(*n.link) {
			style = "filled,dashed"
		}
		rows := []string{"<B>" + html.EscapeString(n.link.Name) + "</B> bridge"}
		for _, a := range shownAddrs(*n.link) {
			rows = append(rows, html.EscapeString(a))
		}
		if len(n.label) > 1 { // ports that have no edge of their own
			rows = append(rows, html.EscapeString(n.label[1]))
		}
		return fmt.Sprintf(`id="br-%d-%s", label=<%s>, tooltip="%s", shape=box, style="%s", fillcolor="#fff4ce", color="#b08800"`,
			i, dotEsc(n.link.Name), strings.Join(rows, "<BR/>"), dotEsc(n.link.Name), style)
	}
	i := index[keyOf(n.info)]
	return fmt.Sprintf(`id="ns-%d", class="ns", label=<%s>, tooltip="%s", shape=box, style="rounded,filled", fillcolor="#e8f0fe", color="#1a56c4", penwidth=1.5`,
		i, nsTable(n.info), dotEsc(n.info.Name))
}

// nsTable is a namespace's box: its name, its lab, and each interface
// that has an address or no edge of its own (devices, VLANs, ...).
func nsTable(info *Info) string {
	var b strings.Builder
	b.WriteString(`<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">`)
	b.WriteString(`<TR><TD COLSPAN="2"><B>` + html.EscapeString(info.Name) + `</B></TD></TR>`)
	if info.Lab != "" {
		b.WriteString(`<TR><TD COLSPAN="2"><FONT POINT-SIZE="9" COLOR="#555555">lab ` + html.EscapeString(info.Lab) + `</FONT></TD></TR>`)
	}
	if info.Host != "" {
		b.WriteString(`<TR><TD COLSPAN="2"><FONT POINT-SIZE="9" COLOR="#555555">on host ` + html.EscapeString(info.Host) + `</FONT></TD></TR>`)
	}
	for _, l := range info.Links {
		addrs := shownAddrs(l)
		own := l.Kind == "veth" || l.Kind == "bridge" || tunnelKinds[l.Kind]
		if l.Kind == "loopback" || l.Kind == "bridge" || (own && len(addrs) == 0) {
			continue
		}
		name := html.EscapeString(l.Name)
		if l.Kind != "veth" && l.Kind != "" {
			name += ` <FONT POINT-SIZE="8">` + html.EscapeString(l.Kind) + `</FONT>`
		}
		cell := html.EscapeString(strings.Join(addrs, "\n"))
		cell = strings.ReplaceAll(cell, "\n", `<BR ALIGN="LEFT"/>`)
		if isDown(l) {
			name, cell = `<FONT COLOR="#999999">`+name+` (down)</FONT>`, `<FONT COLOR="#999999">`+cell+`</FONT>`
		}
		b.WriteString(`<TR><TD ALIGN="LEFT">` + name + `</TD><TD ALIGN="LEFT">` + cell + `</TD></TR>`)
	}
	b.WriteString(`</TABLE>`)
	return b.String()
}

func pictureEdge(e graphEdge) string {
	if e.member {
		return `style=dotted, color="#b08800"`
	}
	names := []string{e.a.Name}
	shaping := []string{}
	if x := extraOf(*e.a); x.shaping != "" {
		shaping = append(shaping, e.a.Name+": "+x.shaping)
	}
	down := isDown(*e.a)
	if e.b != nil {
		names = append(names, e.b.Name)
		down = down || isDown(*e.b)
		if x := extraOf(*e.b); x.shaping != "" {
			shaping = append(shaping, e.b.Name+": "+x.shaping)
		}
	} else {
		names = append(names, e.label[1])
	}
	label := []string{strings.Join(names, " — ")}
	attrs := `color="#333333"`
	if len(shaping) > 0 {
		label = append(label, shaping...)
		attrs = `color="#c05000", fontcolor="#c05000", penwidth=2`
	}
	class := "veth"
	if down {
		attrs += `, style=dashed`
		class += " down"
		label[0] += " (down)"
	}
	return fmt.Sprintf(`label=%s, tooltip=%s, class="%s", %s`, dotString(label), dotString(label), class, attrs)
}

// writeTunnels adds a node per tunnel link, joined to its namespace by a
// bold edge, and a dashed edge between the two ends of a tunnel when
// both are drawn.
func writeTunnels(b *strings.Builder, g *graph) {
	var ts []tunnel
	for _, n := range g.nodes {
		if n.kind != nsNode {
			continue
		}
		for _, l := range n.info.Links {
			if !tunnelKinds[l.Kind] {
				continue
			}
			t := tunnel{id: "t" + strconv.Itoa(len(ts)), info: n.info, link: l, extra: extraOf(l)}
			ts = append(ts, t)
			style := map[bool]string{true: "filled,dashed", false: "filled"}[isDown(l)]
			fmt.Fprintf(b, "\t%s [label=%s, tooltip=%s, class=\"tunnel\", shape=cds, style=\"%s\", fillcolor=\"#fde2c4\", color=\"#c05000\"];\n",
				t.id, dotString(t.label()), dotString(t.label()[:2]), style)
			edge := map[bool]string{true: "dashed", false: "bold"}[isDown(l)]
			fmt.Fprintf(b, "\t%s -- %s [class=\"tunnel\", color=\"#c05000\", penwidth=2.5, style=%s];\n", n.id, t.id, edge)
		}
	}
	for i := range ts {
		for j := i + 1; j < len(ts); j++ {
			if ts[i].pairs(ts[j]) {
				label := ts[i].link.Kind
				if v := ts[i].extra.param("vni"); v != "" {
					label += " vni " + v
				}
				fmt.Fprintf(b, "\t%s -- %s [label=%s, class=\"tunnel pair\", color=\"#c05000\", fontcolor=\"#c05000\", style=dashed, penwidth=2];\n",
					ts[i].id, ts[j].id, dotString([]string{label}))
			}
		}
	}
}

// isDown: set down, or up but without carrier (a veth whose peer is down).
func isDown(l Link) bool {
	return l.State != "up" || l.Oper == "down" || l.Oper == "lower-layer-down"
}

// shownAddrs are the link's addresses minus IPv6 link-local ones.
func shownAddrs(l Link) []string {
	f := strings.Fields(endText(l))
	return f[1:]
}

func dotEsc(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ").Replace(s)
}

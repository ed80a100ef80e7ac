package inspect

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// linkExtra is what a picture shows of a link beyond Link's own fields:
// its shaping and a tunnel's parameters. They are read by name from the
// link's JSON ("shape": {"delay": "20ms", ...}, "params": {"vni": 42,
// "remote": ...}), so that the picture shows whatever inspect reports for
// them, whichever part of nslua fills them in; a link without them has
// none. It is a variable so that tests can supply extras.
var extraOf = func(l Link) linkExtra {
	raw, err := json.Marshal(l)
	if err != nil {
		return linkExtra{}
	}
	var m map[string]any
	json.Unmarshal(raw, &m)
	params, _ := m["params"].(map[string]any)
	return linkExtra{shaping: summary(m["shape"]), params: params}
}

type linkExtra struct {
	shaping string         // "delay 20ms loss 1%", "" when none is set
	params  map[string]any // a tunnel's: remote, local, vni, key, ...
}

// summary is a shaping as one line: its parameters in name order.
func summary(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+" "+fmt.Sprint(v[k]))
		}
		return strings.Join(parts, " ")
	}
	return ""
}

func (x linkExtra) param(name string) string {
	if v, ok := x.params[name]; ok && v != nil && fmt.Sprint(v) != "" {
		return fmt.Sprint(v)
	}
	return ""
}

// tunnel is a tunnel link drawn as a node of its own.
type tunnel struct {
	id    string
	info  *Info
	link  Link
	extra linkExtra
}

// tunnelLabel: name, kind, and the parameters that say where it leads.
func (t tunnel) label() []string {
	label := append([]string{t.link.Name, t.link.Kind}, shownAddrs(t.link)...)
	for _, p := range []string{"vni", "key", "remote"} {
		if v := t.extra.param(p); v != "" {
			label = append(label, p+" "+v)
		}
	}
	if t.extra.shaping != "" {
		label = append(label, t.extra.shaping)
	}
	return label
}

// pairs reports whether tunnels a and b are the two ends of one: same
// kind, each one's remote an address of the other's namespace (or its
// local address), and the same VNI or key where both have one.
func (a tunnel) pairs(b tunnel) bool {
	if a.link.Kind != b.link.Kind || a.info == b.info {
		return false
	}
	for _, p := range []string{"vni", "key"} {
		if va, vb := a.extra.param(p), b.extra.param(p); va != "" && vb != "" && va != vb {
			return false
		}
	}
	return leadsTo(a, b) && (b.extra.param("remote") == "" || leadsTo(b, a))
}

func leadsTo(a, b tunnel) bool {
	remote := a.extra.param("remote")
	if remote == "" {
		return false
	}
	if remote == b.extra.param("local") {
		return true
	}
	for _, l := range b.info.Links {
		for _, addr := range l.Addrs {
			if strings.SplitN(addr, "/", 2)[0] == remote {
				return true
			}
		}
	}
	return false
}

package inspect

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// paramsText writes a link's parameters as `ip -d link` would: "vni 42
// remote 10.1.2.2 port 4789", in a fixed order.
func paramsText(l Link) string {
	var parts []string
	if l.Parent != "" {
		parts = append(parts, "parent "+l.Parent)
	}
	keys := make([]string, 0, len(l.Params))
	for k := range l.Params {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return paramRank(keys[i]) < paramRank(keys[j]) || paramRank(keys[i]) == paramRank(keys[j]) && keys[i] < keys[j]
	})
	for _, k := range keys {
		switch v := l.Params[k].(type) {
		case []string:
			parts = append(parts, k+" ["+strings.Join(v, ", ")+"]")
		case []any:
			var s []string
			for _, e := range v {
				s = append(s, fmt.Sprint(e))
			}
			parts = append(parts, k+" ["+strings.Join(s, ", ")+"]")
		default:
			parts = append(parts, k+" "+fmt.Sprint(v))
		}
	}
	return strings.Join(parts, " ")
}

// kindLabel is a link's name with its kind and parameters, when it has
// any: "vx0 (vxlan vni 42 remote 10.1.2.2)".
func kindLabel(l Link) string {
	if p := paramsText(l); p != "" {
		return l.Name + " (" + l.Kind + " " + p + ")"
	}
	return l.Name
}

// paramRank puts the identifying parameters first.
func paramRank(k string) int {
	for i, first := range []string{"vni", "id", "table", "mode", "remote", "group", "local"} {
		if k == first {
			return i
		}
	}
	return 100
}

// ruleText writes a rule as `ip rule` does.
func ruleText(r Rule) string {
	parts := []string{strconv.Itoa(r.Priority) + ":"}
	if r.Family == "inet6" {
		parts = append(parts, "(inet6)")
	}
	from := r.From
	if from == "" {
		from = "all"
	}
	parts = append(parts, "from", from)
	for _, kv := range [][2]string{{"to", r.To}, {"iif", r.Iif}, {"oif", r.Oif}} {
		if kv[1] != "" {
			parts = append(parts, kv[0], kv[1])
		}
	}
	if r.Fwmark != 0 {
		parts = append(parts, "fwmark", fmt.Sprintf("%#x", r.Fwmark))
	}
	return strings.Join(append(parts, "lookup", r.Table), " ")
}

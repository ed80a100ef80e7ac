package inspect

import "testing"

func TestParamsText(t *testing.T) {
	l := Link{Name: "vx0", Kind: "vxlan", Params: map[string]any{
		"port": 4789, "remote": "10.1.2.2", "vni": 42, "fdb": []string{"00:00:00:00:00:00 dst 10.1.2.3"}}}
	if got, want := paramsText(l), "vni 42 remote 10.1.2.2 fdb [00:00:00:00:00:00 dst 10.1.2.3] port 4789"; got != want {
		t.Errorf("paramsText = %q, want %q", got, want)
	}
	if got, want := kindLabel(Link{Name: "v10", Kind: "vlan", Parent: "trunk", Params: map[string]any{"id": 10}}), "v10 (vlan parent trunk id 10)"; got != want {
		t.Errorf("kindLabel = %q, want %q", got, want)
	}
	if got := kindLabel(Link{Name: "eth0", Kind: "veth"}); got != "eth0" {
		t.Errorf("kindLabel of a plain veth = %q", got)
	}
}

func TestRuleText(t *testing.T) {
	r := Rule{Priority: 1000, Family: "inet", From: "10.0.0.0/24", Iif: "eth1", Fwmark: 16, Table: "100"}
	if got, want := ruleText(r), "1000: from 10.0.0.0/24 iif eth1 fwmark 0x10 lookup 100"; got != want {
		t.Errorf("ruleText = %q, want %q", got, want)
	}
	if got, want := ruleText(Rule{Priority: 5, Family: "inet6", Table: "main"}), "5: (inet6) from all lookup main"; got != want {
		t.Errorf("ruleText = %q, want %q", got, want)
	}
	if got := routeText(Route{Dst: "10.9.0.0/24", Dev: "eth0", Table: "100"}); got != "10.9.0.0/24 dev eth0 table 100" {
		t.Errorf("routeText = %q", got)
	}
}

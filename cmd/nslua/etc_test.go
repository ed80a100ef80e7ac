package main

import (
	"strings"
	"testing"
)

func TestParseEtcArgs(t *testing.T) {
	good := map[string]etcArgs{
		"ns1":                             {name: "ns1"},
		"ns1 --json":                      {name: "ns1", asJSON: true},
		"ns1 copy dnsmasq.conf hostapd/":  {name: "ns1", verb: "copy", paths: []string{"dnsmasq.conf", "hostapd/"}},
		"ns1 copy x --follow --force":     {name: "ns1", verb: "copy", paths: []string{"x"}, follow: true, force: true},
		"ns1 copy x --create-host-target": {name: "ns1", verb: "copy", paths: []string{"x"}, createHost: true},
		"ns1 edit dnsmasq.conf":           {name: "ns1", verb: "edit", paths: []string{"dnsmasq.conf"}},
		"ns1 diff":                        {name: "ns1", verb: "diff"},
		"ns1 diff hosts":                  {name: "ns1", verb: "diff", paths: []string{"hosts"}},
		"ns1 rm hosts hostapd":            {name: "ns1", verb: "rm", paths: []string{"hosts", "hostapd"}},
	}
	for line, want := range good {
		got, err := parseEtcArgs(strings.Fields(line))
		if err != nil || strings.Join(got.paths, ",") != strings.Join(want.paths, ",") || got.name != want.name ||
			got.verb != want.verb || got.asJSON != want.asJSON || got.follow != want.follow || got.force != want.force || got.createHost != want.createHost {
			t.Errorf("%q: got %+v, %v; want %+v", line, got, err, want)
		}
	}
	bad := map[string]string{
		"":                  "needs a namespace",
		"ns1 cp x":          "unknown command",
		"ns1 copy":          "needs PATH",
		"ns1 rm":            "needs PATH",
		"ns1 edit":          "needs PATH",
		"ns1 edit a b":      "one PATH",
		"ns1 x":             "unknown command",
		"ns1 diff --follow": "go with copy",
		"ns1 --force":       "go with copy",
		"ns1 copy x --json": "--json goes with the listing",
		"ns1 --verbose":     "unknown option",
	}
	for line, want := range bad {
		_, err := parseEtcArgs(strings.Fields(line))
		if err == nil || !strings.Contains(err.Error(), want) || err.(*exitError).code != 2 {
			t.Errorf("%q: error %v, want exit 2 and %q", line, err, want)
		}
	}
}

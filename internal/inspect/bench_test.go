package inspect

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// BenchmarkAll200 inspects a hub namespace with 200 spokes, each joined to
// it by a veth. Every peer must be resolved, both ways.
func BenchmarkAll200(b *testing.B) { benchAll(b, 200) }

// BenchmarkAll1000: the same with 1000 spokes (target: well under a second).
func BenchmarkAll1000(b *testing.B) { benchAll(b, 1000) }

func benchAll(b *testing.B, spokes int) {
	needRoot(b)
	p := uniquePrefix(b)
	hub := p + "hub"
	names := make([]string, spokes)
	adds, links, dels := []string{"netns add " + hub}, []string{}, []string{"netns del " + hub}
	for i := range names {
		names[i] = fmt.Sprintf("%s%04d", p, i)
		adds = append(adds, "netns add "+names[i])
		links = append(links, fmt.Sprintf("link add h%04d netns %s type veth peer name v0 netns %s", i, hub, names[i]))
		dels = append(dels, "netns del "+names[i])
	}
	b.Cleanup(func() {
		cmd := exec.Command("ip", "-force", "-batch", "-")
		cmd.Stdin = strings.NewReader(strings.Join(dels, "\n") + "\n")
		cmd.Run()
	})
	ipBatch(b, adds)
	ipBatch(b, links)
	checkSpokes(b, hub, names)

	for b.Loop() {
		if _, err := All(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func checkSpokes(b *testing.B, hub string, names []string) {
	infos, err := All(Options{})
	if err != nil {
		b.Fatal(err)
	}
	byName := map[string]*Info{}
	for _, i := range infos {
		byName[i.Name] = i
	}
	h := byName[hub]
	if h == nil {
		b.Fatalf("hub %s not inspected", hub)
	}
	peers := map[string]string{}
	for _, l := range h.Links {
		if l.Peer != nil {
			peers[l.Name] = l.Peer.NS + "/" + l.Peer.Name
		}
	}
	for i, n := range names {
		hubEnd := fmt.Sprintf("h%04d", i)
		if got := peers[hubEnd]; got != n+"/v0" {
			b.Fatalf("peer of %s/%s: %q, want %s/v0", hub, hubEnd, got, n)
		}
		info := byName[n]
		if info == nil {
			b.Fatalf("%s not inspected", n)
		}
		var peer *Peer
		for _, l := range info.Links {
			if l.Name == "v0" {
				peer = l.Peer
			}
		}
		if peer == nil || peer.NS != hub || peer.Name != hubEnd {
			b.Fatalf("peer of %s/v0: %+v, want %s/%s", n, peer, hub, hubEnd)
		}
	}
}

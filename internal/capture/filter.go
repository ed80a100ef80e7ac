package capture

import (
	"fmt"
	"strings"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Filter is a compiled capture filter: the classic BPF program libpcap
// makes of a pcap-filter(7) expression, as tcpdump would run it.
type Filter struct {
	Expr string
	Raw  []bpf.RawInstruction
	vm   *bpf.VM // the same program, run on what was queued before the attach
}

// CompileFilter compiles expr for packets of linkType cut at snaplen bytes.
// libpcap does the compiling (see filter_cgo.go): its language has too
// many corners (ether proto, vlan, byte offsets) for a re-implementation
// to be trusted as "what tcpdump would match".
func CompileFilter(expr string, linkType layers.LinkType, snaplen int) (*Filter, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	raw, err := pcapCompile(expr, int(linkType), snaplen)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	f := &Filter{Expr: expr, Raw: raw}
	// libpcap compiling for a file (not a live Linux socket) emits no
	// kernel extensions, so x/net/bpf's VM can run every program; if one
	// day it cannot, the kernel's attach alone filters.
	if insns, ok := bpf.Disassemble(raw); ok {
		f.vm, _ = bpf.NewVM(insns)
	}
	return f, nil
}

// Match runs the program on a packet in user space. A socket receives
// packets from its bind until the filter is attached; those (and only
// those) must be filtered again.
func (f *Filter) Match(data []byte) bool {
	if f == nil || f.vm == nil {
		return true
	}
	n, err := f.vm.Run(data)
	return err == nil && n > 0
}

package export

import (
	"fmt"
	"strings"

	"github.com/nslua/nslua/internal/inspect"
	"github.com/nslua/nslua/internal/luastr"
)

// end is one end of a veth pair: its namespace's name and the link.
type end struct {
	ns   string
	link inspect.Link
}

// peerOf finds the other end of a veth, if it lives in a namespace the
// script makes or in the host.
func (s *script) peerOf(l inspect.Link) (end, bool) {
	if l.Peer == nil {
		return end{}, false
	}
	info := s.byName[l.Peer.NS]
	if info == nil && l.Peer.NS == "host" {
		info = s.in.Host
	}
	if info == nil {
		return end{}, false
	}
	for _, pl := range info.Links {
		if pl.Name == l.Peer.Name {
			return end{l.Peer.NS, pl}, true
		}
	}
	return end{}, false
}

// veths writes one n:veth per pair, from the end met first.
func (s *script) veths() {
	done := map[string]bool{}
	first := true
	for _, info := range s.in.Infos {
		for _, l := range info.Links {
			if l.Kind != "veth" || done[info.Name+"\x00"+l.Name] {
				continue
			}
			peer, ok := s.peerOf(l)
			if !ok {
				continue // reported by others()
			}
			done[info.Name+"\x00"+l.Name] = true
			done[peer.ns+"\x00"+peer.link.Name] = true
			if first {
				s.line("")
				first = false
			}
			s.veth(end{info.Name, l}, peer)
		}
	}
}

func (s *script) veth(a, b end) {
	var opts []string
	if addrs := exportedAddrs(a.link); len(addrs) > 0 {
		opts = append(opts, "addr = "+list(addrs))
	}
	if addrs := exportedAddrs(b.link); len(addrs) > 0 {
		opts = append(opts, "peer_addr = "+list(addrs))
	}
	if a.link.MTU != 1500 && a.link.MTU != 0 {
		opts = append(opts, fmt.Sprintf("mtu = %d", a.link.MTU))
	}
	if a.link.MAC != "" {
		opts = append(opts, "mac = "+luastr.Quote(a.link.MAC))
	}
	if b.link.MAC != "" {
		opts = append(opts, "peer_mac = "+luastr.Quote(b.link.MAC))
	}
	call := fmt.Sprintf("%s:veth(%s, %s, %s", s.nsVar(a.ns), luastr.Quote(a.link.Name), s.nsVar(b.ns), luastr.Quote(b.link.Name))
	if len(opts) > 0 {
		call += ", {" + strings.Join(opts, ", ") + "}"
	}
	s.line("%s)", call)
	given := 1500
	if a.link.MTU != 0 {
		given = a.link.MTU
	}
	if b.link.MTU != 0 && b.link.MTU != given {
		s.line("%s:link(%s):mtu(%d)", s.nsVar(b.ns), luastr.Quote(b.link.Name), b.link.MTU)
	}
	for _, e := range []end{a, b} {
		if e.link.State == "down" { // n:veth brings both ends up
			s.line("%s:link(%s):down()", s.nsVar(e.ns), luastr.Quote(e.link.Name))
		}
	}
}

// ports enslaves links to their bridges.
func (s *script) ports() {
	first := true
	for _, info := range s.in.Infos {
		for _, l := range info.Links {
			br, ok := s.bridges[[2]string{info.Name, l.Master}]
			if l.Master == "" || !ok || !s.made(info.Name, l) {
				continue
			}
			if first {
				s.line("")
				first = false
			}
			s.line("%s:link(%s):master(%s)", s.nsVar(info.Name), luastr.Quote(l.Name), br)
		}
	}
}

// made reports whether the script creates (or, for lo, has) link l.
func (s *script) made(ns string, l inspect.Link) bool {
	switch l.Kind {
	case "bridge", "loopback":
		return true
	case "veth":
		_, ok := s.peerOf(l)
		return ok
	}
	return false
}

// addresses adds what veth options did not: bridges' and lo's addresses.
func (s *script) addresses() {
	first := true
	for _, info := range s.in.Infos {
		for _, l := range info.Links {
			if l.Kind != "bridge" && l.Kind != "loopback" {
				continue
			}
			for _, a := range exportedAddrs(l) {
				if first {
					s.line("")
					first = false
				}
				s.line("%s:addr(%s, %s)", s.nsVar(info.Name), luastr.Quote(l.Name), luastr.Quote(a))
			}
		}
	}
}

// states: bridges are made up; those that were down go down again (veth
// ends are done with their pair).
func (s *script) states() {
	for _, info := range s.in.Infos {
		for _, l := range info.Links {
			if l.State == "down" && l.Kind == "loopback" {
				s.line("-- lo was down in %s; ns.add brings it up, as a lab wants", info.Name)
			}
			if l.State == "down" && l.Kind == "bridge" {
				s.line("%s:link(%s):down()", s.nsVar(info.Name), luastr.Quote(l.Name))
			}
		}
	}
}

// others names, as comments, the links the script cannot make.
func (s *script) others() {
	var notes []string
	for _, info := range s.in.Infos {
		for _, l := range info.Links {
			if s.made(info.Name, l) {
				continue
			}
			why := "kind " + l.Kind + " is not exported"
			if l.Kind == "veth" && l.Peer != nil {
				why = "its peer " + l.Peer.Name + " is in " + l.Peer.NS + ", which is not exported"
			}
			notes = append(notes, fmt.Sprintf("-- %s: link %s left out: %s", info.Name, l.Name, why))
		}
	}
	if len(notes) > 0 {
		s.line("")
		for _, n := range notes {
			s.line("%s", n)
		}
	}
}

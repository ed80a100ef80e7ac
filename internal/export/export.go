// Package export writes a Lua lab script that rebuilds the namespaces an
// inspection found: whoever made them (ip, nslua, a container runtime), the
// script makes them again with nslua's API. It is a pure function of the
// inspection, so it is tested without root.
package export

import (
	"fmt"
	"io"
	"net"
	"sort"
	"strings"

	"github.com/nslua/nslua/internal/inspect"
	"github.com/nslua/nslua/internal/luastr"
)

// EtcFile is one regular file under /etc/netns/NAME, Path relative to it.
type EtcFile struct {
	Path    string
	Content string
}

// Input is what Lua needs besides the inspections.
type Input struct {
	Infos []*inspect.Info // the namespaces to rebuild
	// Host is the host namespace's inspection: veths of Infos that lead
	// there are made from the host side. May be nil.
	Host *inspect.Info
	// Etc holds the /etc/netns files of each namespace, by name.
	Etc map[string][]EtcFile
	// Skipped lists /etc/netns entries not exported, with why, by name.
	Skipped map[string][]string
	Source  string // what was exported, for the header comment
}

// script accumulates the Lua text section by section.
type script struct {
	in      Input
	vars    map[string]string // namespace name -> Lua variable
	taken   map[string]bool
	byName  map[string]*inspect.Info
	bridges map[[2]string]string // (ns, bridge) -> Lua variable
	out     strings.Builder
}

// Lua writes the script to w.
func Lua(w io.Writer, in Input) error {
	s := &script{in: in, vars: map[string]string{}, taken: map[string]bool{},
		byName: map[string]*inspect.Info{}, bridges: map[[2]string]string{}}
	for _, info := range in.Infos {
		s.byName[info.Name] = info
	}
	s.header()
	s.namespaces()
	s.sysctls()
	s.makeBridges()
	s.veths()
	s.ports()
	s.addresses()
	s.states()
	s.routes()
	s.etcFiles()
	s.others()
	s.processes()
	_, err := io.WriteString(w, s.out.String())
	return err
}

func (s *script) line(format string, args ...any) {
	fmt.Fprintf(&s.out, format+"\n", args...)
}

func (s *script) header() {
	s.line("-- A lab that rebuilds %s, written by `nslua export` from the kernel's state.", s.in.Source)
	s.line("-- Run it with `nslua --keep FILE` to leave it up (`nslua down LAB` removes it),")
	s.line("-- or add checks at the end and run it plainly: everything goes at exit.")
}

func (s *script) namespaces() {
	s.line("")
	for _, info := range s.in.Infos {
		s.line("local %s = ns.add(%s)", s.nsVar(info.Name), luastr.Quote(info.Name))
	}
	if s.reachesHost() {
		s.line("local %s = ns.host()", s.nsVar("host"))
	}
}

// reachesHost reports whether a veth of the script leads to the host.
func (s *script) reachesHost() bool {
	for _, info := range s.in.Infos {
		for _, l := range info.Links {
			if p, ok := s.peerOf(l); ok && p.ns == "host" && s.byName["host"] == nil {
				return true
			}
		}
	}
	return false
}

// nsVar is the Lua variable holding namespace name; "host" is ns.host().
func (s *script) nsVar(name string) string {
	if v, ok := s.vars[name]; ok {
		return v
	}
	if s.byName[name] == nil && name == "host" {
		s.vars[name] = "host"
		s.taken["host"] = true
		return "host"
	}
	v := s.fresh(identifier(name))
	s.vars[name] = v
	return v
}

// fresh makes base unique among the script's variables.
func (s *script) fresh(base string) string {
	v := base
	for i := 2; s.taken[v] || reserved[v]; i++ {
		v = fmt.Sprintf("%s_%d", base, i)
	}
	s.taken[v] = true
	return v
}

func (s *script) sysctls() {
	first := true
	for _, info := range s.in.Infos {
		for _, key := range sortedKeys(info.Sysctl) {
			if v := info.Sysctl[key]; v != "" && v != "0" {
				if first {
					s.line("")
					first = false
				}
				s.line("%s:sysctl(%s, %s)", s.nsVar(info.Name), luastr.Quote(key), v)
			}
		}
	}
}

func (s *script) makeBridges() {
	first := true
	for _, info := range s.in.Infos {
		for _, l := range info.Links {
			if l.Kind != "bridge" {
				continue
			}
			if first {
				s.line("")
				first = false
			}
			v := s.fresh(identifier(info.Name + "_" + l.Name))
			s.bridges[[2]string{info.Name, l.Name}] = v
			s.line("local %s = %s:bridge(%s)", v, s.nsVar(info.Name), luastr.Quote(l.Name))
			if l.MAC != "" {
				s.line("%s:mac(%s)", v, luastr.Quote(l.MAC))
			}
			if l.MTU != 0 && l.MTU != 1500 {
				s.line("%s:mtu(%d)", v, l.MTU)
			}
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// exportedAddrs leaves out what the kernel makes by itself: IPv6
// link-local addresses (they follow from the MAC, which is exported) and
// loopback's own.
func exportedAddrs(l inspect.Link) []string {
	var out []string
	for _, a := range l.Addrs {
		ip, _, err := net.ParseCIDR(a)
		if err != nil || ip.IsLinkLocalUnicast() {
			continue
		}
		if l.Kind == "loopback" && (a == "127.0.0.1/8" || a == "::1/128") {
			continue
		}
		out = append(out, a)
	}
	return out
}

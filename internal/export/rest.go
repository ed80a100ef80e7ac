package export

import (
	"fmt"
	"net"
	"strings"

	"github.com/nslua/nslua/internal/inspect"
	"github.com/nslua/nslua/internal/luastr"
)

// routes writes the routes a person added: the kernel's own (connected
// prefixes, IPv6 link-local and multicast) come back by themselves.
func (s *script) routes() {
	first := true
	for _, info := range s.in.Infos {
		for _, r := range info.Routes {
			text, ok := routeCall(r)
			if !ok {
				continue
			}
			if first {
				s.line("")
				first = false
			}
			s.line("%s:route%s", s.nsVar(info.Name), text)
		}
	}
}

func routeCall(r inspect.Route) (string, bool) {
	if r.Proto == "kernel" || r.Type != "" || (r.Table != "" && r.Table != "main") {
		return "", false
	}
	if strings.Contains(r.Via, ",") || strings.Contains(r.Dev, ",") {
		return fmt.Sprintf(" -- multipath route %s via %s dev %s left out", r.Dst, r.Via, r.Dev), true
	}
	v6 := strings.Contains(r.Dst, ":") || strings.Contains(r.Via, ":")
	if ip, _, err := net.ParseCIDR(r.Dst); err == nil && (ip.IsLinkLocalUnicast() || ip.IsMulticast()) {
		return "", false
	}
	fields := []string{"dst = " + luastr.Quote(r.Dst)}
	if r.Via != "" {
		fields = append(fields, "via = "+luastr.Quote(r.Via))
	}
	if r.Dev != "" {
		fields = append(fields, "dev = "+luastr.Quote(r.Dev))
	}
	if r.Metric != 0 && !(v6 && r.Metric == 1024) {
		fields = append(fields, fmt.Sprintf("metric = %d", r.Metric))
	}
	return "{" + strings.Join(fields, ", ") + "}", true
}

func (s *script) etcFiles() {
	for _, info := range s.in.Infos {
		files, skipped := s.in.Etc[info.Name], s.in.Skipped[info.Name]
		if len(files) == 0 && len(skipped) == 0 {
			continue
		}
		s.line("")
		for _, f := range files {
			s.line("%s:etc(%s, %s)", s.nsVar(info.Name), luastr.Quote(f.Path), longString(f.Content))
		}
		for _, why := range skipped {
			s.line("-- %s: /etc/netns/%s/%s", info.Name, info.Name, why)
		}
	}
}

// processes lists what ran inside, commented out: a script cannot know
// which of them it should start, or how they were configured.
func (s *script) processes() {
	for _, info := range s.in.Infos {
		if len(info.Procs) == 0 {
			continue
		}
		s.line("")
		s.line("-- running in %s when exported:", info.Name)
		for _, p := range info.Procs {
			s.line("-- %s:spawn(%s)  -- was pid %d", s.nsVar(info.Name), luastr.Quote(p.Cmd), p.PID)
		}
	}
}

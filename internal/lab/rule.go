package lab

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Rule is a policy-routing rule: which table serves which traffic.
type Rule struct {
	From, To string // prefixes (or addresses) of source and destination
	Iif, Oif string // incoming / outgoing interface names
	Table    int
	Priority int // 0: the kernel picks one below the last rule
	Mark     int // fwmark; 0 = any
}

// AddRule: `ip rule add from FROM to TO iif IIF oif OIF lookup TABLE
// priority PRIO`.
func (n *Netns) AddRule(r Rule) error {
	spec, err := ruleSpec(r)
	if err != nil {
		return err
	}
	h, err := n.handle()
	if err != nil {
		return err
	}
	if err := h.RuleAdd(spec); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("%s in %s: such a rule already exists", ruleText(r), n.Name)
		}
		return fmt.Errorf("%s in %s: %w", ruleText(r), n.Name, err)
	}
	return nil
}

func ruleSpec(r Rule) (*netlink.Rule, error) {
	if r.Table < 1 || r.Table > 1<<32-1 {
		return nil, fmt.Errorf("rule: table %d is out of range (1..2^32-1; main is 254)", r.Table)
	}
	if r.Priority < 0 || r.Priority > 1<<32-1 {
		return nil, fmt.Errorf("rule: priority %d is out of range", r.Priority)
	}
	spec := netlink.NewRule()
	spec.Table, spec.IifName, spec.OifName = r.Table, r.Iif, r.Oif
	spec.Priority = -1 // netlink's "unset"
	if r.Priority > 0 {
		spec.Priority = r.Priority
	}
	if r.Mark != 0 {
		spec.Mark = uint32(r.Mark)
	}
	var err error
	if spec.Src, err = rulePrefix("from", r.From); err != nil {
		return nil, err
	}
	if spec.Dst, err = rulePrefix("to", r.To); err != nil {
		return nil, err
	}
	spec.Family = unix.AF_INET
	if spec.Src != nil && spec.Src.IP.To4() == nil || spec.Dst != nil && spec.Dst.IP.To4() == nil {
		spec.Family = unix.AF_INET6
	}
	if spec.Src != nil && spec.Dst != nil && (spec.Src.IP.To4() == nil) != (spec.Dst.IP.To4() == nil) {
		return nil, fmt.Errorf("rule: from %s and to %s are of different IP versions", r.From, r.To)
	}
	for _, name := range []string{r.Iif, r.Oif} {
		if name != "" {
			if err := ValidateIfName(name); err != nil {
				return nil, fmt.Errorf("rule: %w", err)
			}
		}
	}
	return spec, nil
}

func rulePrefix(what, s string) (*net.IPNet, error) {
	if s == "" || s == "all" {
		return nil, nil
	}
	p, err := parseDst(s, nil)
	if err != nil || s == "default" {
		return nil, fmt.Errorf("rule: %s %q is not a prefix or an address", what, s)
	}
	return p, nil
}

func ruleText(r Rule) string {
	parts := []string{"rule"}
	for _, kv := range [][2]string{{"from", r.From}, {"to", r.To}, {"iif", r.Iif}, {"oif", r.Oif}} {
		if kv[1] != "" {
			parts = append(parts, kv[0], kv[1])
		}
	}
	parts = append(parts, fmt.Sprintf("table %d", r.Table))
	return strings.Join(parts, " ")
}

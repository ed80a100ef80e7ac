package inspect

import (
	"github.com/vishvananda/netlink"

	"github.com/nslua/nslua/internal/tc"
)

// addShapes fills in each link's shaping (link:shape's table) from one
// dump of the namespace's qdiscs.
func (s *snapshot) addShapes() error {
	qs, err := dump("list qdiscs", s.path, func() ([]netlink.Qdisc, error) { return s.h.QdiscList(nil) })
	if err != nil {
		return err
	}
	byLink := map[int][]netlink.Qdisc{}
	for _, q := range qs {
		byLink[q.Attrs().LinkIndex] = append(byLink[q.Attrs().LinkIndex], q)
	}
	for i := range s.info.Links {
		l := &s.info.Links[i]
		if sh, ok := tc.Read(byLink[l.Index], l.MTU); ok && !sh.IsZero() {
			l.Shape = map[string]any{}
			for k, v := range sh.Map() {
				l.Shape[k] = v
			}
			if sh.Limit > 0 {
				l.Shape["limit"] = sh.Limit
			}
		}
	}
	return nil
}

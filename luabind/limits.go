package luabind

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
)

// nsCheckLimits is ns.check_limits{namespaces=, neighbours=}: raises,
// one line per limit, when the machine cannot hold a lab that big.
func (rt *Runtime) nsCheckLimits(L *lua.LState) int {
	c := newCall(L, "ns.check_limits", 1)
	o := c.opts(1, "namespaces", "neighbours")
	var s lab.Scale
	s.Namespaces, _ = o.integer("namespaces", 0, 1<<24)
	s.Neighbours, _ = o.integer("neighbours", 0, 1<<24)
	c.check(lab.CheckLimits(s))
	return 0
}

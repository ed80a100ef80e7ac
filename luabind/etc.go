package luabind

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
)

// netnsEtcCopy is n:etc_copy(path [, {follow=, force=}]) -> {string}: what
// was made, one line each.
func (rt *Runtime) netnsEtcCopy(L *lua.LState) int {
	c, n := rt.method(L, "etc_copy", 2)
	path := c.name(2, "path")
	c.fn = fmt.Sprintf("%s:etc_copy(%q)", n.Name, path)
	o := c.opts(3, "follow", "force")
	var eo lab.EtcCopyOptions
	eo.Follow, _ = o.boolean("follow")
	eo.Force, _ = o.boolean("force")
	lines, err := n.EtcCopy(path, eo)
	c.check(err)
	t := L.CreateTable(len(lines), 0)
	for _, l := range lines {
		t.Append(lua.LString(l))
	}
	L.Push(t)
	return 1
}

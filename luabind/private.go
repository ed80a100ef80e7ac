package luabind

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// netnsFile is n:file(path): what programs in n see at path, read from
// the namespace's private state (or the host's file outside it).
func (rt *Runtime) netnsFile(L *lua.LState) int {
	c, n := rt.method(L, "file", 1)
	path := c.str(2, "path")
	c.fn = fmt.Sprintf("%s:file(%q)", n.Name, path)
	data, found, err := n.File(path)
	c.check(err)
	if !found {
		L.Push(lua.LNil)
	} else {
		L.Push(lua.LString(data))
	}
	return 1
}

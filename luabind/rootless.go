package luabind

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/rootless"
)

// nsRootless tells scripts (and the libraries of scripts/) that they run in
// a user namespace, where only root is mapped: daemons that drop privileges
// to another user must be told to stay root.
func nsRootless(L *lua.LState) int {
	newCall(L, "ns.rootless", 0)
	L.Push(lua.LBool(rootless.Active()))
	return 1
}

var rootlessDocs = []Doc{
	{Section: secNs, Name: "ns.rootless", Sig: "ns.rootless() -> boolean", Extra: true,
		Text: "True when the run is a rootless lab (a normal user's, or --rootless): it runs in its own user namespace where the user is root, " +
			"ns.host() is that namespace's own network namespace, and no other uid is mapped (a daemon must not drop privileges to another user, e.g. dnsmasq needs user=root; nslua.dhcp does that)."},
}

func init() { Docs = append(Docs, rootlessDocs...) }

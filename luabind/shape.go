package luabind

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
	"github.com/nslua/nslua/internal/tc"
)

// linkShape is l:shape{...} (set), l:shape() (read), l:shape(false) (remove).
func (rt *Runtime) linkShape(L *lua.LState) int {
	c, k := linkMethod(L, "shape", 1)
	switch v := L.Get(2).(type) {
	case *lua.LNilType:
		s, ok, err := k.ReadShape()
		c.check(err)
		if !ok {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(shapeToTable(L, s))
		return 1
	case lua.LBool:
		if v {
			c.raise("argument #1 (shape) must be a table, or false to remove the shaping, got true")
		}
		c.check(k.Shape(tc.Shape{}))
	case *lua.LTable:
		s, peer := readShape(c, v, "")
		c.check(shapeBoth(k, s, peer))
	default:
		c.bad(2, "shape", "a table, or false to remove the shaping", v)
	}
	L.Push(L.Get(1))
	return 1
}

// shapeBoth shapes k, and its veth peer when peer is not nil.
func shapeBoth(k *lab.Link, s tc.Shape, peer *tc.Shape) error {
	var other *lab.Link
	if peer != nil {
		var err error
		if other, err = k.Peer(); err != nil {
			return fmt.Errorf("peer: %w", err)
		}
	}
	if err := k.Shape(s); err != nil {
		return err
	}
	if other != nil {
		if err := other.Shape(*peer); err != nil {
			return fmt.Errorf("peer %s in %s: %w", other.Name, other.NS.Name, err)
		}
	}
	return nil
}

func shapeToTable(L *lua.LState, s tc.Shape) *lua.LTable {
	t := L.NewTable()
	for key, v := range s.Map() {
		if key == "limit" {
			t.RawSetString(key, lua.LNumber(s.Limit))
			continue
		}
		t.RawSetString(key, lua.LString(v))
	}
	return t
}

// readShape reads a shape table; peer is the shape for the other end of
// a veth (peer = true: the same; peer = {...}: its own), nil for none.
func readShape(c call, t *lua.LTable, what string) (tc.Shape, *tc.Shape) {
	kv := map[string]string{}
	var peer *tc.Shape
	var peerSame bool
	t.ForEach(func(k, v lua.LValue) {
		key, ok := k.(lua.LString)
		if !ok {
			c.raise("%sshape keys must be strings, got %s", label(what), typeName(k))
		}
		if key == "peer" {
			peerSame, peer = readPeer(c, v, what)
			return
		}
		switch v := v.(type) {
		case lua.LString:
			kv[string(key)] = string(v)
		case lua.LNumber:
			kv[string(key)] = v.String()
		default:
			c.raise("%s%s must be a string such as \"10mbit\" or \"20ms\", got %s", label(what), string(key), typeName(v))
		}
	})
	s, err := tc.Parse(kv)
	if err != nil {
		c.raise("%s%v", label(what), err)
	}
	if peerSame {
		peer = &s
	}
	return s, peer
}

func readPeer(c call, v lua.LValue, what string) (same bool, own *tc.Shape) {
	switch v := v.(type) {
	case lua.LBool:
		return bool(v), nil
	case *lua.LTable:
		if v.RawGetString("peer") != lua.LNil {
			c.raise("%speer: a peer's shape has no peer of its own", label(what))
		}
		s, _ := readShape(c, v, strings.TrimSpace(what+" peer"))
		return false, &s
	}
	c.raise("%speer must be true or a shape table, got %s", label(what), typeName(v))
	return false, nil
}

// vethShaping is a veth's opts.shape, read before the pair is made.
type vethShaping struct {
	s    tc.Shape
	peer *tc.Shape
}

func readVethShape(c call, v lua.LValue) *vethShaping {
	if v == lua.LNil {
		return nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		c.raise("option shape must be a table such as {rate = \"10mbit\"}, got %s", typeName(v))
	}
	s, peer := readShape(c, t, "option shape")
	return &vethShaping{s, peer}
}

// apply shapes the new pair (a, and b for peer); on failure the pair is
// deleted, so that nothing half-made is left.
func (vs *vethShaping) apply(c call, a, b *lab.Link) {
	if vs == nil {
		return
	}
	err := a.Shape(vs.s)
	if err == nil && vs.peer != nil {
		if err = b.Shape(*vs.peer); err != nil {
			err = fmt.Errorf("peer %s: %w", b.Name, err)
		}
	}
	if err != nil {
		a.Delete()
		c.raise("option shape: %v", err)
	}
}

func label(what string) string {
	if what == "" {
		return ""
	}
	return what + ": "
}

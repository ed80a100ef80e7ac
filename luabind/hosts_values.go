package luabind

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/remote"
)

// maxDepth bounds the nesting of a table that crosses to another host: a
// deeper one is most likely a cycle.
const maxDepth = 64

// errFunction is what encoding a function gives: it cannot cross.
var errFunction = errors.New("a function")

// codec turns Lua values into remote.Values and back; objects (userdata)
// are its callers' business: on an agent they become handles, on the
// controller proxies.
type codec struct {
	object func(ud *lua.LUserData) (remote.Value, error)
	handle func(v remote.Value) (lua.LValue, error)
}

func (cd codec) encode(v lua.LValue, depth int) (remote.Value, error) {
	switch v := v.(type) {
	case *lua.LNilType:
		return remote.Value{T: "nil"}, nil
	case lua.LBool:
		return remote.Value{T: "bool", B: bool(v)}, nil
	case lua.LNumber:
		f := float64(v)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return remote.Value{T: "num", S: strconv.FormatFloat(f, 'g', -1, 64)}, nil
		}
		return remote.Value{T: "num", N: f}, nil
	case lua.LString:
		if utf8.ValidString(string(v)) {
			return remote.Value{T: "str", S: string(v)}, nil
		}
		return remote.Value{T: "str", X: []byte(v)}, nil
	case *lua.LTable:
		return cd.encodeTable(v, depth)
	case *lua.LUserData:
		return cd.object(v)
	case *lua.LFunction:
		return remote.Value{}, errFunction
	}
	return remote.Value{}, fmt.Errorf("a %s", v.Type())
}

func (cd codec) encodeTable(t *lua.LTable, depth int) (remote.Value, error) {
	if depth >= maxDepth {
		return remote.Value{}, fmt.Errorf("a table nested more than %d deep (a cycle?)", maxDepth)
	}
	out := remote.Value{T: "tab"}
	var err error
	t.ForEach(func(k, v lua.LValue) {
		if err != nil {
			return
		}
		var ek, ev remote.Value
		if ek, err = cd.encode(k, depth+1); err != nil {
			return
		}
		if ev, err = cd.encode(v, depth+1); err != nil {
			return
		}
		out.K, out.V = append(out.K, ek), append(out.V, ev)
	})
	return out, err
}

func (cd codec) encodeAll(vals []lua.LValue) ([]remote.Value, error) {
	out := make([]remote.Value, len(vals))
	for i, v := range vals {
		var err error
		if out[i], err = cd.encode(v, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (cd codec) decode(L *lua.LState, v remote.Value, depth int) (lua.LValue, error) {
	switch v.T {
	case "nil":
		return lua.LNil, nil
	case "bool":
		return lua.LBool(v.B), nil
	case "num":
		if v.S != "" {
			f, err := strconv.ParseFloat(v.S, 64)
			return lua.LNumber(f), err
		}
		return lua.LNumber(v.N), nil
	case "str":
		if v.X != nil {
			return lua.LString(v.X), nil
		}
		return lua.LString(v.S), nil
	case "tab":
		if depth >= maxDepth || len(v.K) != len(v.V) {
			return nil, errors.New("a malformed table")
		}
		t := L.CreateTable(0, len(v.K))
		for i := range v.K {
			k, err := cd.decode(L, v.K[i], depth+1)
			if err != nil {
				return nil, err
			}
			val, err := cd.decode(L, v.V[i], depth+1)
			if err != nil {
				return nil, err
			}
			if k == lua.LNil {
				return nil, errors.New("a table with a nil key")
			}
			t.RawSet(k, val)
		}
		return t, nil
	case "h":
		return cd.handle(v)
	}
	return nil, fmt.Errorf("a value of unknown type %q", v.T)
}

func (cd codec) decodeAll(L *lua.LState, vals []remote.Value) ([]lua.LValue, error) {
	out := make([]lua.LValue, len(vals))
	for i, v := range vals {
		var err error
		if out[i], err = cd.decode(L, v, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

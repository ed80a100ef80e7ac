package luabind

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/remote"
)

// Values cross as JSON and come back the same: bytes that are not UTF-8,
// numbers that JSON cannot spell, nested tables with any keys.
func TestCodecRoundTrip(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(`V = {1, "two", [3.5] = true, nested = {x = "\255\0raw", inf = math.huge, [false] = -0.25}}`); err != nil {
		t.Fatal(err)
	}
	cd := codec{
		object: func(*lua.LUserData) (remote.Value, error) { return remote.Value{}, errors.New("an object") },
		handle: func(remote.Value) (lua.LValue, error) { return nil, errors.New("a handle") },
	}
	v, err := cd.encode(L.GetGlobal("V"), 0)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back remote.Value
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	got, err := cd.decode(L, back, 0)
	if err != nil {
		t.Fatal(err)
	}
	L.SetGlobal("W", got)
	if err := L.DoString(`
		assert(W[1] == 1 and W[2] == "two" and W[3.5] == true)
		assert(W.nested.x == "\255\0raw", "bytes")
		assert(W.nested.inf == math.huge and W.nested[false] == -0.25)
	`); err != nil {
		t.Fatal(err)
	}
	if _, err := cd.encode(L.NewFunction(func(*lua.LState) int { return 0 }), 0); err != errFunction {
		t.Errorf("a function encoded: %v", err)
	}
	if _, err := cd.encode(lua.LNumber(math.NaN()), 0); err != nil {
		t.Errorf("NaN: %v", err)
	}
}

func TestCodecRefusesCycles(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	L.DoString(`C = {}; C.self = C`)
	_, err := codec{}.encode(L.GetGlobal("C"), 0)
	if err == nil || !strings.Contains(err.Error(), "a cycle?") {
		t.Errorf("a cycle gave %v", err)
	}
}

func TestParseHostLine(t *testing.T) {
	tg, err := parseHostLine(strings.Fields("b root@10.0.0.2 underlay=eth1"))
	if err != nil || tg.Name != "b" || tg.SSH != "root@10.0.0.2" || tg.Underlay != "eth1" {
		t.Errorf("got %+v, %v", tg, err)
	}
	for _, line := range []string{"b", "local h1", "b h1 port=2", "b -oProxyCommand=x"} {
		if _, err := parseHostLine(strings.Fields(line)); err == nil {
			t.Errorf("%q was accepted", line)
		}
	}
}

// VNIs differ per lab from the start and per link after, in range.
func TestNextVNI(t *testing.T) {
	vni := func(lab string, n int) int {
		hs := &hostSet{links: n - 1}
		return hs.vniFor(lab)
	}
	a1, a2, b1 := vni("alpha", 1), vni("alpha", 2), vni("beta", 1)
	if a1 == a2 || a1 == b1 || a1 < 1 || a1 >= 1<<24 {
		t.Errorf("VNIs alpha 1, 2 and beta 1: %d %d %d", a1, a2, b1)
	}
	if !vniTaken(errors.New("vxlan eth0 in x: file exists")) || vniTaken(errors.New("vxlan eth0: a link named eth0 already exists in x")) {
		t.Error("vniTaken tells a VNI in use from a taken name wrongly")
	}
}

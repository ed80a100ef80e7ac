package tests

import (
	"io"
	"strconv"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/luabind"
	"github.com/nslua/nslua/tests/starbench"
)

// BenchmarkShapeStar builds the star of examples/star.lua (N = 500) in one
// lab, then shapes all its links (a rate on every hub port: tbf, which
// every kernel of the project has), then changes every one in place.
// build-ms, shape-ms and change-ms are per star; shape/build is the ratio
// of one run's shaping to its build.
func BenchmarkShapeStar(b *testing.B) {
	const n = 500
	var build, shape, change time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := prefix(b)
		cleanupPrefix(b, p)
		starbench.WaitSettled(b)
		r, err := luabind.StartRun(luabind.RunOptions{Lab: p + "-bench", Log: io.Discard, Out: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		L := r.L
		args := L.NewTable()
		args.RawSetInt(1, lua.LString(strconv.Itoa(n)))
		args.RawSetInt(2, lua.LString(p))
		L.SetGlobal("arg", args)
		L.SetGlobal("P", lua.LString(p))
		L.SetGlobal("print", L.NewFunction(func(*lua.LState) int { return 0 }))
		steps := []struct {
			code string
			d    *time.Duration
		}{
			{"", &build},
			{`local hub = ns.open(P .. "hub"); for i = 0, ` + strconv.Itoa(n-1) + ` do hub:link("p" .. i):shape{rate = "100mbit"} end`, &shape},
			{`local hub = ns.open(P .. "hub"); for i = 0, ` + strconv.Itoa(n-1) + ` do hub:link("p" .. i):shape{rate = "50mbit", limit = 100} end`, &change},
		}
		b.StartTimer()
		for _, st := range steps {
			t0 := time.Now()
			if st.code == "" {
				err = L.DoFile("../examples/star.lua")
			} else {
				err = L.DoString(st.code)
			}
			*st.d += time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if err := L.DoString(`assert(ns.open(P .. "hub"):link("p` + strconv.Itoa(n-1) + `"):shape().rate == "50mbit")`); err != nil {
			b.Fatal(err)
		}
		if errs := r.Close(); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
	b.ReportMetric(starbench.MsPer(build, b.N), "build-ms")
	b.ReportMetric(starbench.MsPer(shape, b.N), "shape-ms")
	b.ReportMetric(starbench.MsPer(change, b.N), "change-ms")
	b.ReportMetric(float64(shape)/float64(build), "shape/build")
}

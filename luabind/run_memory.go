package luabind

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// Lua's values live on the Go heap, and Go dies of a failed allocation
// with a fatal error that no recover sees: no teardown, exit 2. So a run
// keeps the heap under a limit: a watchdog samples it every few
// milliseconds and stops the Lua code running (the VM checks its context
// at every instruction) with "out of memory", and the allocations that are
// made at one go and could alone exceed any limit (string.rep, table.concat)
// are checked before they happen. debug.SetMemoryLimit makes the collector
// keep garbage out of the figure as the limit nears.

const heapMetric = "/memory/classes/heap/objects:bytes"

// DefaultMemoryLimit is the command line's limit: a quarter of the RAM, at
// most 4 GiB, at least 256 MiB.
func DefaultMemoryLimit() int64 {
	var si unix.Sysinfo_t
	limit := int64(4 << 30)
	if unix.Sysinfo(&si) == nil {
		limit = min(limit, int64(si.Totalram)*int64(si.Unit)/4)
	}
	return max(limit, 256<<20)
}

// ParseSize reads a size such as "512M", "2G", "1048576" (bytes); "0" or
// "off" means no limit.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if t == "OFF" {
		return 0, nil
	}
	mult := int64(1)
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGT", t[n-1]); i >= 0 {
			mult, t = int64(1)<<(10*(i+1)), t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (bytes, or with K, M, G or T)", s)
	}
	return v * mult, nil
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

type memWatch struct {
	limit int64
	done  chan struct{}
}

func (w *memWatch) close() {
	if w != nil {
		close(w.done)
	}
}

func (r *Run) limitMemory(limit int64) {
	debug.SetMemoryLimit(limit)
	w := &memWatch{limit: limit, done: make(chan struct{})}
	r.mem = w
	guardAllocations(r.L, limit)
	go w.watch(r)
}

// watch stops the Lua code when the heap passes the limit. Then the
// threshold moves above what is still live (a global may hold the data),
// so that the ns.defer functions can run.
func (w *memWatch) watch(r *Run) {
	sample := []metrics.Sample{{Name: heapMetric}}
	threshold := w.limit
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		heap := int64(sample[0].Value.Uint64())
		if heap <= threshold {
			continue
		}
		r.stop(&stopError{fmt.Sprintf("out of memory: the Lua heap reached %s, over the limit of %s (NSLUA_MEMORY_LIMIT)",
			sizeText(heap), sizeText(w.limit))}, nil)
		// Over the soft limit the collector runs all the time, and the
		// instruction under way (a big concatenation) would crawl to its
		// end: lift it until the heap is down again.
		debug.SetMemoryLimit(math.MaxInt64)
		runtime.GC()
		metrics.Read(sample)
		live := int64(sample[0].Value.Uint64())
		threshold = max(w.limit, live+w.limit/4)
		debug.SetMemoryLimit(threshold)
	}
}

// guardAllocations wraps string.rep and table.concat, whose results are
// allocated at one go, to refuse results beyond limit.
func guardAllocations(L *lua.LState, limit int64) {
	tooBig := func(L *lua.LState, fn string, size float64) {
		if size > float64(limit) {
			L.RaiseError("out of memory: %s would make a string of %s, over the limit of %s (NSLUA_MEMORY_LIMIT)",
				fn, sizeText(int64(min(size, 1<<62))), sizeText(limit))
		}
	}
	if strMod, ok := L.GetGlobal("string").(*lua.LTable); ok {
		if rep, ok := strMod.RawGetString("rep").(*lua.LFunction); ok {
			strMod.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
				s, n := L.CheckString(1), L.CheckNumber(2)
				tooBig(L, "string.rep", float64(len(s))*float64(n))
				return callThrough(L, rep)
			}))
		}
	}
	if tabMod, ok := L.GetGlobal("table").(*lua.LTable); ok {
		if concat, ok := tabMod.RawGetString("concat").(*lua.LFunction); ok {
			tabMod.RawSetString("concat", L.NewFunction(func(L *lua.LState) int {
				t, sep := L.CheckTable(1), L.OptString(2, "")
				size := 0.0
				t.ForEach(func(_, v lua.LValue) {
					if s, ok := v.(lua.LString); ok {
						size += float64(len(s) + len(sep))
					}
				})
				tooBig(L, "table.concat", size)
				return callThrough(L, concat)
			}))
		}
	}
}

// callThrough calls the original Go function with this call's arguments.
func callThrough(L *lua.LState, fn *lua.LFunction) int {
	return fn.GFunction(L)
}

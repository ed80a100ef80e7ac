package tc

import (
	"strconv"
	"strings"
	"time"
)

// Map is the shape as a table of the keys that are set, each written as
// Parse reads it, so that Parse(s.Map()) == s.
func (s Shape) Map() map[string]string {
	m := map[string]string{}
	if s.Rate > 0 {
		m["rate"] = FormatRate(s.Rate)
	}
	if s.Burst > 0 {
		m["burst"] = FormatSize(s.Burst)
	}
	if s.Limit > 0 {
		m["limit"] = strconv.FormatUint(uint64(s.Limit), 10)
	}
	if s.Delay > 0 {
		m["delay"] = FormatTime(s.Delay)
	}
	if s.Jitter > 0 {
		m["jitter"] = FormatTime(s.Jitter)
	}
	for key, p := range map[string]float64{"loss": s.Loss, "duplicate": s.Duplicate, "corrupt": s.Corrupt, "reorder": s.Reorder} {
		if p > 0 {
			m[key] = FormatPercent(p)
		}
	}
	return m
}

// String is the shape as key=value pairs in Keys order, as `nslua shape`
// takes them and inspect shows them ("" for none).
func (s Shape) String() string {
	m := s.Map()
	var parts []string
	for _, k := range Keys {
		if v, ok := m[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// FormatRate writes bits per second in the largest unit that is exact.
func FormatRate(bits uint64) string {
	for _, u := range []struct {
		name string
		mul  uint64
	}{{"tbit", 1e12}, {"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}} {
		if bits%u.mul == 0 {
			return strconv.FormatUint(bits/u.mul, 10) + u.name
		}
	}
	return strconv.FormatUint(bits, 10) + "bit"
}

// FormatSize writes bytes in kb or mb (1024) when exact.
func FormatSize(b uint32) string {
	switch {
	case b%(1<<20) == 0:
		return strconv.FormatUint(uint64(b>>20), 10) + "mb"
	case b%(1<<10) == 0:
		return strconv.FormatUint(uint64(b>>10), 10) + "kb"
	}
	return strconv.FormatUint(uint64(b), 10) + "b"
}

// FormatTime writes a duration in ms (fractional when needed) or s.
func FormatTime(d time.Duration) string {
	us := d.Microseconds()
	switch {
	case us%1e6 == 0:
		return strconv.FormatInt(us/1e6, 10) + "s"
	case us >= 1e3:
		return strconv.FormatFloat(float64(us)/1e3, 'f', -1, 64) + "ms"
	}
	return strconv.FormatInt(us, 10) + "us"
}

// FormatPercent writes a percentage with what precision the kernel keeps
// (a 32-bit fraction: about 9 digits; 6 decimals are shown).
func FormatPercent(p float64) string {
	return strconv.FormatFloat(roundTo(p, 6), 'f', -1, 64) + "%"
}

func roundTo(f float64, decimals int) float64 {
	s := strconv.FormatFloat(f, 'f', decimals, 64)
	r, _ := strconv.ParseFloat(s, 64)
	return r
}

// Package tc turns a link's shaping, as a person writes it ("10mbit",
// "20ms", "1%"), into the kernel's qdisc tree and back: tbf for the rate,
// netem for delay, jitter, loss, duplication, corruption and reordering,
// one tree on the link's egress, built and changed through netlink.
package tc

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Shape is what a link does to the packets it sends. Zero values mean
// "not set": no rate limit, no delay, no loss.
type Shape struct {
	Rate   uint64 // bits per second
	Burst  uint32 // bytes the rate may be exceeded by at once (tbf); 0 = default
	Limit  uint32 // queue length in packets; 0 = default
	Delay  time.Duration
	Jitter time.Duration
	// percentages, 0..100
	Loss, Duplicate, Corrupt, Reorder float64
}

// Keys are the table keys a Shape is written with, in display order.
var Keys = []string{"rate", "burst", "delay", "jitter", "loss", "duplicate", "corrupt", "reorder", "limit"}

// IsZero reports a shape that shapes nothing.
func (s Shape) IsZero() bool { return s == Shape{} }

// NeedsNetem reports whether the shape needs sch_netem (all but the rate).
func (s Shape) NeedsNetem() bool {
	return s.Delay > 0 || s.Jitter > 0 || s.Loss > 0 || s.Duplicate > 0 || s.Corrupt > 0 || s.Reorder > 0
}

// NetemKeys names the keys set that need sch_netem, for error messages.
func (s Shape) NetemKeys() []string {
	var out []string
	for _, k := range []struct {
		key string
		set bool
	}{{"delay", s.Delay > 0}, {"jitter", s.Jitter > 0}, {"loss", s.Loss > 0}, {"duplicate", s.Duplicate > 0},
		{"corrupt", s.Corrupt > 0}, {"reorder", s.Reorder > 0}} {
		if k.set {
			out = append(out, k.key)
		}
	}
	return out
}

// Parse reads a shape from key = value pairs as a script or the command
// line gives them. Every value is text: a Lua number arrives as "20", and
// then lacks its unit, which is said.
func Parse(kv map[string]string) (Shape, error) {
	var s Shape
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := s.set(k, strings.TrimSpace(kv[k])); err != nil {
			return Shape{}, fmt.Errorf("%s: %w", k, err)
		}
	}
	return s, s.Check()
}

func (s *Shape) set(key, v string) error {
	var err error
	switch key {
	case "rate":
		s.Rate, err = ParseRate(v)
	case "burst":
		s.Burst, err = ParseSize(v)
	case "limit":
		s.Limit, err = parseLimit(v)
	case "delay":
		s.Delay, err = ParseTime(v)
	case "jitter":
		s.Jitter, err = ParseTime(v)
	case "loss":
		s.Loss, err = ParsePercent(v)
	case "duplicate":
		s.Duplicate, err = ParsePercent(v)
	case "corrupt":
		s.Corrupt, err = ParsePercent(v)
	case "reorder":
		s.Reorder, err = ParsePercent(v)
	default:
		return fmt.Errorf("unknown key (known: %s)", strings.Join(Keys, ", "))
	}
	return err
}

// Check refuses combinations the kernel would refuse or ignore.
func (s Shape) Check() error {
	switch {
	case s.Burst > 0 && s.Rate == 0:
		return fmt.Errorf("burst needs a rate (it is the rate's bucket size)")
	case s.Jitter > 0 && s.Delay == 0:
		return fmt.Errorf("jitter needs a delay (it varies the delay: delay = \"20ms\", jitter = \"5ms\")")
	case s.Reorder > 0 && s.Delay == 0:
		return fmt.Errorf("reorder needs a delay (reordered packets are the ones sent without it)")
	case s.Limit > 0 && s.Rate == 0 && !s.NeedsNetem():
		return fmt.Errorf("limit needs a rate or a netem key (it is the length of their queue)")
	}
	return nil
}

// unitNumber splits "10mbit" into 10 and "mbit".
func unitNumber(v string) (float64, string, error) {
	i := 0
	for i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] == '.') {
		i++
	}
	if i == 0 {
		return 0, "", fmt.Errorf("%s is not a number with a unit", quote(v))
	}
	f, err := strconv.ParseFloat(v[:i], 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, "", fmt.Errorf("%s is not a number with a unit", quote(v))
	}
	return f, strings.ToLower(strings.TrimSpace(v[i:])), nil
}

func quote(v string) string {
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return "'" + v + "'"
}

var rateUnits = map[string]float64{
	"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12,
	"kibit": 1 << 10, "mibit": 1 << 20, "gibit": 1 << 30,
}

// ParseRate reads a rate in bits per second: "10mbit", "1gbit", "512kbit".
// tc reads "mbps" as megabytes per second, which people rarely mean, so
// the byte units are refused with the two readings spelled out.
func ParseRate(v string) (uint64, error) {
	f, unit, err := unitNumber(v)
	if err != nil {
		return 0, err
	}
	if unit == "" {
		return 0, fmt.Errorf("%s has no unit; write %smbit (or kbit, gbit: bits per second)", quote(v), v)
	}
	if strings.HasSuffix(unit, "bps") {
		bits := strings.TrimSuffix(unit, "ps") + "it"
		return 0, fmt.Errorf("%s is ambiguous (tc reads it as bytes per second, %g%s); write %g%s for bits per second",
			quote(v), f*8, bits, f, bits)
	}
	mul, ok := rateUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%s: unknown unit %q (use bit, kbit, mbit, gbit)", quote(v), unit)
	}
	bits := f * mul
	if bits < 8 {
		return 0, fmt.Errorf("%s is below 8bit, the smallest rate (remove the key for no limit)", quote(v))
	}
	if bits > 8*float64(math.MaxUint32)*1e3 {
		return 0, fmt.Errorf("%s is beyond any link", quote(v))
	}
	// the kernel counts bytes per second
	return uint64(math.Round(bits/8)) * 8, nil
}

var sizeUnits = map[string]float64{
	"b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
}

// ParseSize reads bytes as tc does: "1540b", "32kb" (1024 bytes), "1mb".
func ParseSize(v string) (uint32, error) {
	f, unit, err := unitNumber(v)
	if err != nil {
		return 0, err
	}
	if unit == "" {
		return 0, fmt.Errorf("%s has no unit; write %skb (or b, mb: bytes)", quote(v), v)
	}
	mul, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%s: unknown unit %q (use b, kb, mb: bytes, kb = 1024)", quote(v), unit)
	}
	n := math.Round(f * mul)
	if n < 1 || n > math.MaxUint32 {
		return 0, fmt.Errorf("%s is out of range (1b to 4gb)", quote(v))
	}
	return uint32(n), nil
}

func parseLimit(v string) (uint32, error) {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%s must be a whole number of packets above 0", quote(v))
	}
	return uint32(n), nil
}

var timeUnits = map[string]time.Duration{
	"us": time.Microsecond, "usec": time.Microsecond, "ms": time.Millisecond, "msec": time.Millisecond,
	"s": time.Second, "sec": time.Second,
}

// maxTime is what netem's 32-bit tick count holds, with room.
const maxTime = 200 * time.Second

// ParseTime reads a duration: "20ms", "1.5s", "250us".
func ParseTime(v string) (time.Duration, error) {
	f, unit, err := unitNumber(v)
	if err != nil {
		return 0, err
	}
	if unit == "" {
		return 0, fmt.Errorf("%s has no unit; write %sms (or us, s)", quote(v), v)
	}
	mul, ok := timeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%s: unknown unit %q (use us, ms, s)", quote(v), unit)
	}
	d := time.Duration(math.Round(f*float64(mul)/1e3)) * time.Microsecond
	if d > maxTime {
		return 0, fmt.Errorf("%s is over %v, the most netem delays", quote(v), maxTime)
	}
	return d, nil
}

// ParsePercent reads "1%", "0.5%". A bare number is refused: 0.01 and 1
// are both common ways to write one percent.
func ParsePercent(v string) (float64, error) {
	f, unit, err := unitNumber(v)
	if err != nil {
		return 0, err
	}
	if unit == "" {
		return 0, fmt.Errorf("%s has no unit; write %s%% (a percentage)", quote(v), v)
	}
	if unit != "%" {
		return 0, fmt.Errorf("%s: unknown unit %q (a percentage: write 1%%)", quote(v), unit)
	}
	if f > 100 {
		return 0, fmt.Errorf("%s is over 100%%", quote(v))
	}
	return f, nil
}

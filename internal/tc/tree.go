package tc

import (
	"math"
	"strconv"
	"time"

	"github.com/vishvananda/netlink"
)

// Handles of the qdiscs nslua makes: a root tbf (its one class is
// TbfHandle|1, where netem hangs when both are wanted) or a root netem.
// Distinct majors per kind: the kernel refuses to change a qdisc's kind
// under one handle, and they mark the tree as nslua's ("4e53:" in tc).
const (
	TbfHandle   uint32 = 0x4e530000
	NetemHandle uint32 = 0x4e540000
	// netemAlt takes over from NetemHandle (and back) when a netem must be
	// made afresh: a change cannot clear corruption or reordering, since
	// the kernel keeps those when their attribute is left out.
	netemAlt uint32 = 0x4e550000
)

// netemDefaultLimit is netem's own default queue length (packets).
const netemDefaultLimit = 1000

// Tree is the qdiscs of one shape on one link: Root at the link's root,
// and, under a rate, Child (netem) in the tbf's class.
type Tree struct {
	Root  netlink.Qdisc
	Child netlink.Qdisc
}

// frame is the most a packet of the link occupies in the queue.
func frame(mtu int) uint32 {
	if mtu <= 0 {
		mtu = 1500
	}
	return uint32(mtu) + 14
}

// DefaultBurst lets 10 ms of the rate through at once, and at least two
// full frames (a burst below one frame passes nothing).
func DefaultBurst(rate uint64, mtu int) uint32 {
	b := rate / 8 / 100
	if min := uint64(2 * frame(mtu)); b < min {
		b = min
	}
	if b > math.MaxUint32 {
		b = math.MaxUint32
	}
	return uint32(b)
}

// defaultTbfLimit queues 100 ms of the rate beyond the burst.
func defaultTbfLimit(rate uint64, burst uint32) uint32 {
	l := rate/8/10 + uint64(burst)
	if l > math.MaxUint32 {
		l = math.MaxUint32
	}
	return uint32(l)
}

// ticks converts a duration to the packet scheduler's clock.
func ticks(d time.Duration) uint32 {
	t := math.Round(float64(d) / 1e3 * netlink.TickInUsec())
	if t > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(t)
}

func fromTicks(t uint32) time.Duration {
	us := math.Round(float64(t) / netlink.TickInUsec())
	return time.Duration(us) * time.Microsecond
}

// burstTicks is tbf's bucket: the time the rate takes to send burst bytes.
func burstTicks(rate uint64, burst uint32) uint32 {
	return ticks(time.Duration(float64(burst) * 8 / float64(rate) * 1e9))
}

func burstBytes(rate uint64, t uint32) uint32 {
	return uint32(math.Round(fromTicksExact(t).Seconds() * float64(rate) / 8))
}

func fromTicksExact(t uint32) time.Duration {
	return time.Duration(float64(t) / netlink.TickInUsec() * 1e3)
}

func pct(p float64) uint32 { return uint32(math.Round(p / 100 * math.MaxUint32)) }

func fromPct(v uint32) float64 { return roundTo(float64(v)/math.MaxUint32*100, 6) }

// Build is the tree for s on link index whose MTU is mtu.
func Build(s Shape, index, mtu int) Tree {
	var t Tree
	if s.Rate > 0 {
		t.Root = buildTbf(s, index, mtu)
		if s.NeedsNetem() {
			t.Child = buildNetem(s, index, netlink.QdiscAttrs{LinkIndex: index, Handle: NetemHandle, Parent: TbfHandle | 1})
		}
		return t
	}
	if s.NeedsNetem() {
		t.Root = buildNetem(s, index, netlink.QdiscAttrs{LinkIndex: index, Handle: NetemHandle, Parent: netlink.HANDLE_ROOT})
	}
	return t
}

func buildTbf(s Shape, index, mtu int) *netlink.Tbf {
	burst := s.Burst
	if burst == 0 {
		burst = DefaultBurst(s.Rate, mtu)
	}
	limit := defaultTbfLimit(s.Rate, burst)
	if s.Limit > 0 {
		limit = s.Limit * frame(mtu)
	}
	return &netlink.Tbf{
		QdiscAttrs: netlink.QdiscAttrs{LinkIndex: index, Handle: TbfHandle, Parent: netlink.HANDLE_ROOT},
		Rate:       s.Rate / 8,
		Buffer:     burstTicks(s.Rate, burst),
		Limit:      limit,
	}
}

func buildNetem(s Shape, index int, attrs netlink.QdiscAttrs) *netlink.Netem {
	n := &netlink.Netem{
		QdiscAttrs:  attrs,
		Latency:     ticks(s.Delay),
		Jitter:      ticks(s.Jitter),
		Limit:       netemDefaultLimit,
		Loss:        pct(s.Loss),
		Duplicate:   pct(s.Duplicate),
		CorruptProb: pct(s.Corrupt),
		ReorderProb: pct(s.Reorder),
	}
	if s.Limit > 0 {
		n.Limit = s.Limit
	}
	if s.Reorder > 0 {
		n.Gap = 1 // as tc: every packet may be the one sent ahead
	}
	return n
}

// Root is the link's root qdisc in qs (nil when none is listed).
func Root(qs []netlink.Qdisc) netlink.Qdisc {
	for _, q := range qs {
		if q.Attrs().Parent == netlink.HANDLE_ROOT {
			return q
		}
	}
	return nil
}

func childOf(qs []netlink.Qdisc, parent uint32) netlink.Qdisc {
	for _, q := range qs {
		if q.Attrs().Parent == parent {
			return q
		}
	}
	return nil
}

// Ours reports a qdisc nslua made (by its handle and kind).
func Ours(q netlink.Qdisc) bool {
	switch q.(type) {
	case *netlink.Tbf:
		return q.Attrs().Handle == TbfHandle
	case *netlink.Netem:
		return q.Attrs().Handle == NetemHandle || q.Attrs().Handle == netemAlt
	}
	return false
}

// Read finds the shape in the qdiscs of one link: a root tbf (with a
// netem child or not) or a root netem, whoever made them. ok is false
// when the root is anything else. Keys at their default are left out, so
// that what Build made reads back as what it was given.
func Read(qs []netlink.Qdisc, mtu int) (s Shape, ok bool) {
	switch root := Root(qs).(type) {
	case *netlink.Tbf:
		readTbf(&s, root, mtu)
		if n, isNetem := childOf(qs, root.Handle|1).(*netlink.Netem); isNetem {
			s.Limit = 0
			readNetem(&s, n)
		}
		return s, true
	case *netlink.Netem:
		readNetem(&s, root)
		return s, true
	}
	return Shape{}, false
}

func readTbf(s *Shape, q *netlink.Tbf, mtu int) {
	s.Rate = q.Rate * 8
	if s.Rate == 0 {
		return
	}
	burst := burstBytes(s.Rate, q.Buffer)
	if def := DefaultBurst(s.Rate, mtu); absDiff(burst, def) > 1 {
		s.Burst = burst
	}
	if absDiff(q.Limit, defaultTbfLimit(s.Rate, burstOr(s.Burst, s.Rate, mtu))) > 1 {
		s.Limit = uint32(math.Max(1, math.Round(float64(q.Limit)/float64(frame(mtu)))))
	}
}

func burstOr(b uint32, rate uint64, mtu int) uint32 {
	if b == 0 {
		return DefaultBurst(rate, mtu)
	}
	return b
}

func readNetem(s *Shape, q *netlink.Netem) {
	s.Delay = fromTicks(q.Latency)
	s.Jitter = fromTicks(q.Jitter)
	s.Loss = fromPct(q.Loss)
	s.Duplicate = fromPct(q.Duplicate)
	s.Corrupt = fromPct(q.CorruptProb)
	if q.Gap > 0 { // without a gap the kernel reorders nothing
		s.Reorder = fromPct(q.ReorderProb)
	}
	if q.Limit != netemDefaultLimit {
		s.Limit = q.Limit
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// HandleText writes a qdisc handle as tc does ("4e53:").
func HandleText(h uint32) string { return strconv.FormatUint(uint64(h>>16), 16) + ":" }

package capture

import (
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/sys/unix"
)

const (
	// markSlack covers the kernel's block retire timer (jiffies) and
	// stamps taken on different CPUs before the ring's lock.
	markSlack = 20 * time.Millisecond
	// waitStep bounds one wait for packets, so that stops and
	// watermarks are noticed.
	waitStep = 10 * time.Millisecond
	// drainFor bounds how long a stopped capture goes on reading what
	// the rings hold, when packets keep coming.
	drainFor = 500 * time.Millisecond
)

// cursor is the merger's view of one link: the packet it would write next
// (still in the ring), or, when the ring was empty, a watermark.
type cursor struct {
	data []byte
	ci   gopacket.CaptureInfo
	has  bool
	mark time.Time // when !has: nothing stamped before it is still to come
	done bool      // the link is gone
}

// merger writes the links' packets in time order.
type merger struct {
	c       *Capture
	w       *pcapWriter
	cur     []cursor
	last    time.Time // the newest stamp written
	full    bool      // Count reached or writing failed
	pending bool      // written since the last flush
	start   time.Time
}

func (c *Capture) loop(w *pcapWriter) {
	m := &merger{c: c, w: w, cur: make([]cursor, len(c.rings)), start: time.Now()}
	var stopAt time.Time
	for !m.full {
		if stopAt.IsZero() {
			select {
			case <-c.stop:
				stopAt = time.Now()
			default:
			}
		}
		live := m.fill()
		if live == 0 {
			break
		}
		best, writable, empty := m.pick()
		if writable {
			m.write(best)
			continue
		}
		if !stopAt.IsZero() && (empty && m.seenEmptySince(stopAt) || time.Since(stopAt) > drainFor) {
			break
		}
		m.flush()
		m.wait()
	}
	m.writeHeld()
	m.finish()
	close(c.done)
}

// fill reads the next packet of every link that has none waiting, and
// returns how many links are still there.
func (m *merger) fill() int {
	live := 0
	for i := range m.cur {
		k := &m.cur[i]
		if k.done {
			continue
		}
		live++
		if k.has {
			continue
		}
		before := time.Now()
		data, ci, err := m.c.rings[i].next()
		switch {
		case err == errEmpty:
			k.mark = before.Add(-blockTov - markSlack)
		case err != nil:
			k.done = true
			m.c.mu.Lock()
			m.c.stats[i].Err = err
			m.c.mu.Unlock()
		default:
			k.data, k.ci, k.has = data, ci, true
		}
	}
	return live
}

// pick finds the oldest waiting packet, whether no empty link may still
// deliver an older one, and whether every link is empty.
func (m *merger) pick() (best int, writable, allEmpty bool) {
	best, allEmpty = -1, true
	var bound time.Time
	bounded := false
	for i, k := range m.cur {
		switch {
		case k.done:
		case k.has:
			allEmpty = false
			if best < 0 || k.ci.Timestamp.Before(m.cur[best].ci.Timestamp) {
				best = i
			}
		case !bounded || k.mark.Before(bound):
			bound, bounded = k.mark, true
		}
	}
	writable = best >= 0 && (!bounded || !m.cur[best].ci.Timestamp.After(bound))
	return best, writable, allEmpty
}

// seenEmptySince reports whether every link's ring has been found empty
// late enough to prove that it holds nothing stamped before t: a packet
// that came just before a stop can sit in a block for the block timeout.
func (m *merger) seenEmptySince(t time.Time) bool {
	for _, k := range m.cur {
		if !k.done && (k.has || k.mark.Before(t)) {
			return false
		}
	}
	return true
}

// wait sleeps until an empty link's ring has a block for us, or waitStep.
func (m *merger) wait() {
	var pfds []unix.PollFd
	for i, k := range m.cur {
		if !k.done && !k.has {
			if fd := m.c.rings[i].pollFd(); fd >= 0 {
				pfds = append(pfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
			}
		}
	}
	if len(pfds) == 0 {
		time.Sleep(time.Millisecond)
		return
	}
	unix.Poll(pfds, int(waitStep/time.Millisecond))
}

// writeHeld writes, in order, the packets still waiting at the end.
func (m *merger) writeHeld() {
	for !m.full {
		best, _, _ := m.pick()
		if best < 0 {
			return
		}
		m.write(best)
	}
}

func (m *merger) write(i int) {
	k := &m.cur[i]
	k.has = false
	c := m.c
	data := k.data[:min(len(k.data), c.opts.Snaplen)]
	ts := k.ci.Timestamp
	if ts.Before(m.last) {
		c.mu.Lock()
		c.outOfOrd++
		c.mu.Unlock()
	} else {
		m.last = ts
	}
	if m.w != nil {
		ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data),
			Length: max(k.ci.Length, len(data)), InterfaceIndex: i}
		if err := m.w.ng.WritePacket(ci, data); err != nil {
			m.stopWith(err)
			return
		}
		m.pending = true
	}
	var sum Packet
	if c.opts.OnPacket != nil || c.opts.Keep > 0 {
		sum = Summarize(data, c.linkTypes[i], ts, c.targets[i].Name, k.ci.Length)
	}
	c.mu.Lock()
	c.count++
	c.stats[i].Written++
	if len(c.packets) < c.opts.Keep {
		c.packets = append(c.packets, sum)
	}
	reached := c.opts.Count > 0 && c.count >= c.opts.Count
	c.mu.Unlock()
	if c.opts.OnPacket != nil {
		c.opts.OnPacket(sum)
	}
	if reached {
		m.full = true
		c.once.Do(func() { close(c.stop) })
	}
}

func (m *merger) stopWith(err error) {
	m.c.fail(err)
	m.full = true
	m.c.once.Do(func() { close(m.c.stop) })
}

func (m *merger) flush() {
	if !m.pending || m.c.Err() != nil {
		return
	}
	m.pending = false
	if err := m.w.flush(); err != nil {
		m.stopWith(err)
	}
}

// finish reads each link's kernel counters, closes the sockets and ends
// the file with those counters (pcapng interface statistics: what
// `capinfos` and Wireshark show as drops).
func (m *merger) finish() {
	c := m.c
	for i, r := range c.rings {
		st := r.stats()
		c.mu.Lock()
		c.stats[i].Received, c.stats[i].Dropped = st.Received, st.Dropped
		c.mu.Unlock()
		r.close()
	}
	if m.w == nil || c.Err() != nil {
		return
	}
	end := time.Now()
	for i, st := range c.Stats() {
		err := m.w.ng.WriteInterfaceStats(i, pcapgo.NgInterfaceStatistics{LastUpdate: end, StartTime: m.start,
			EndTime: end, PacketsReceived: st.Received, PacketsDropped: st.Dropped})
		if err != nil {
			c.fail(err)
			return
		}
	}
	m.pending = true
	m.flush()
}

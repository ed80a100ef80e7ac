package capture

import (
	"container/heap"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

// merger puts the readers' packets in time order and writes them.
type merger struct {
	c     *Capture
	w     *pcapWriter
	q     pktHeap
	marks []time.Time // per link: nothing older is still to come
	ended []bool
	live  int
	seq   uint64
	last  time.Time // the newest stamp written
	full  bool      // Count reached or writing failed: discard the rest
	start time.Time
}

func (c *Capture) merge(w *pcapWriter) {
	m := &merger{c: c, w: w, marks: make([]time.Time, len(c.srcs)), ended: make([]bool, len(c.srcs)),
		live: len(c.srcs), start: time.Now()}
	tick := time.NewTicker(pollTimeout)
	defer tick.Stop()
	for m.live > 0 {
		select {
		case ev := <-c.events:
			m.take(ev)
			for i := 0; i < 1024 && len(c.events) > 0; i++ {
				m.take(<-c.events)
			}
		case <-tick.C:
		}
		m.emit(time.Now())
		if len(c.events) == 0 {
			m.flush()
		}
	}
	m.emit(time.Time{}) // everyone ended: the rest, in order
	m.finish()
	close(c.done)
}

func (m *merger) take(ev event) {
	if ev.done {
		m.ended[ev.src] = true
		m.live--
		m.c.mu.Lock()
		st := &m.c.stats[ev.src]
		st.Received, st.Dropped, st.Err = ev.stats.Received, ev.stats.Dropped, ev.err
		m.c.mu.Unlock()
		return
	}
	if ev.mark.After(m.marks[ev.src]) {
		m.marks[ev.src] = ev.mark
	}
	for _, p := range ev.pkts {
		if m.full {
			p.release()
			continue
		}
		m.seq++
		p.seq = m.seq
		heap.Push(&m.q, p)
	}
}

// emit writes every packet that no link can still precede; with a zero
// now, all of them.
func (m *merger) emit(now time.Time) {
	var low time.Time
	first := true
	for i, mk := range m.marks {
		if !m.ended[i] && (first || mk.Before(low)) {
			low, first = mk, false
		}
	}
	for m.q.Len() > 0 {
		p := m.q[0]
		if !now.IsZero() && !first && p.ts.After(low) && now.Sub(p.ts) < maxHold {
			return
		}
		heap.Pop(&m.q)
		m.write(p)
	}
}

func (m *merger) write(p *pkt) {
	defer p.release()
	if m.full {
		return
	}
	c := m.c
	if p.ts.Before(m.last) {
		c.mu.Lock()
		c.outOfOrd++
		c.mu.Unlock()
	} else {
		m.last = p.ts
	}
	if m.w != nil {
		ci := gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(p.data),
			Length: max(p.wireLen, len(p.data)), InterfaceIndex: p.src}
		if err := m.w.ng.WritePacket(ci, p.data); err != nil {
			m.stopWith(err)
			return
		}
	}
	var sum Packet
	if c.opts.OnPacket != nil || c.opts.Keep > 0 {
		sum = Summarize(p.data, m.c.srcs[p.src].linkType, p.ts, c.targets[p.src].Name, p.wireLen)
	}
	c.mu.Lock()
	c.count++
	c.stats[p.src].Written++
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
		m.flush()
		c.once.Do(func() { close(c.stop) })
	}
}

func (m *merger) stopWith(err error) {
	m.c.fail(err)
	m.full = true
	m.c.once.Do(func() { close(m.c.stop) })
}

func (m *merger) flush() {
	if m.w == nil || m.c.Err() != nil {
		return
	}
	if err := m.w.flush(); err != nil {
		m.stopWith(err)
	}
}

// finish ends the file with each interface's kernel counters (pcapng
// interface statistics: what `capinfos` and Wireshark show as drops).
func (m *merger) finish() {
	if m.w == nil || m.c.Err() != nil {
		return
	}
	end := time.Now()
	for i, st := range m.c.Stats() {
		err := m.w.ng.WriteInterfaceStats(i, pcapgo.NgInterfaceStatistics{LastUpdate: end, StartTime: m.start,
			EndTime: end, PacketsReceived: st.Received, PacketsDropped: st.Dropped})
		if err != nil {
			m.c.fail(err)
			return
		}
	}
	m.flush()
}

package capture

import "sync"

// Packet buffers are reused: at full rate a capture copies hundreds of MB
// a second out of the rings, and allocating (and zeroing) each 64 KiB GSO
// frame anew made the garbage collector, not the rings, the bottleneck.
var (
	smallBufs = sync.Pool{New: func() any { return &pkt{data: make([]byte, 0, 2048)} }}
	largeBufs = sync.Pool{New: func() any { return &pkt{data: make([]byte, 0, 1<<16)} }}
)

// newPkt returns a packet holding a copy of data.
func newPkt(data []byte) *pkt {
	var p *pkt
	switch {
	case len(data) <= 2048:
		p = smallBufs.Get().(*pkt)
	case len(data) <= 1<<16:
		p = largeBufs.Get().(*pkt)
	default:
		p = &pkt{}
	}
	p.data = append(p.data[:0], data...)
	return p
}

// release gives a written (or discarded) packet back.
func (p *pkt) release() {
	switch cap(p.data) {
	case 2048:
		smallBufs.Put(p)
	case 1 << 16:
		largeBufs.Put(p)
	}
}

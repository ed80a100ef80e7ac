// Package capture records packets on several links of several network
// namespaces at once into one pcapng stream, in time order: one packet
// socket (AF_PACKET, TPACKET_V3 ring, from gopacket's afpacket) per link,
// opened inside the link's namespace, and gopacket's pcapng writer with
// one interface block per link, named NS:LINK. No tcpdump process.
//
// Every socket stamps its packets in the kernel; the streams are merged by
// those stamps. A packet is written once every link has shown that it
// holds nothing older (each reader reports a watermark: the stamp of what
// it just read, or, when its ring is idle, the time minus the ring's block
// timeout), so the file is in time order even when a reader falls behind.
package capture

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// Target is a link to capture on.
type Target struct {
	Name string // "NS:LINK", the name of its pcapng interface
	NsFd int    // an open descriptor of the link's network namespace
	Link string
}

// NsName is the namespace part of the target's name.
func (t Target) NsName() string {
	if i := strings.LastIndexByte(t.Name, ':'); i >= 0 {
		return t.Name[:i]
	}
	return t.Name
}

// Options say what to capture and where it goes.
type Options struct {
	Filter   string       // pcap-filter(7) expression, as for tcpdump
	Count    int          // stop after this many packets (0: no limit)
	Snaplen  int          // bytes kept of each packet (0: 262144, tcpdump's default)
	Out      io.Writer    // the pcapng stream (nil: none)
	Keep     int          // keep the summaries of the first Keep packets (Packets)
	OnPacket func(Packet) // called for each packet, in time order
}

// LinkStats are one link's kernel counters (PACKET_STATISTICS, as tcpdump
// reports them) and what was written.
type LinkStats struct {
	Name     string
	Received uint64 // accepted by the filter, dropped ones included
	Dropped  uint64 // no room in the ring
	Written  uint64
	Err      error // why the link's capture ended early (link deleted)
}

// maxHold bounds how long a packet waits for a silent reader's watermark.
const maxHold = 2 * time.Second

// Capture is a running capture.
type Capture struct {
	opts    Options
	targets []Target
	srcs    []*source
	events  chan event
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once

	mu       sync.Mutex
	count    int
	packets  []Packet
	stats    []LinkStats
	err      error
	outOfOrd int
}

// Start opens a socket on every target and starts capturing. On error
// nothing is left open.
func Start(targets []Target, o Options) (*Capture, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("capture: no links given")
	}
	if o.Snaplen <= 0 {
		o.Snaplen = 262144
	}
	c := &Capture{opts: o, targets: targets, events: make(chan event, 4096),
		stop: make(chan struct{}), done: make(chan struct{}), stats: make([]LinkStats, len(targets))}
	for i, t := range targets {
		s, err := openSource(i, t, o.Filter, o.Snaplen)
		if err != nil {
			for _, s := range c.srcs {
				s.close()
			}
			return nil, err
		}
		c.srcs = append(c.srcs, s)
		c.stats[i].Name = t.Name
	}
	w, err := c.newWriter()
	if err != nil {
		for _, s := range c.srcs {
			s.close()
		}
		return nil, fmt.Errorf("capture: write pcapng: %w", err)
	}
	for _, s := range c.srcs {
		go s.run(c.stop, c.events, o.Snaplen)
	}
	go c.merge(w)
	return c, nil
}

// pcapWriter is the pcapng stream: gopacket's writer over a large buffer,
// flushed whenever the capture is idle (so `-w - | wireshark -k -i -` is live).
type pcapWriter struct {
	buf *bufio.Writer
	ng  *pcapgo.NgWriter
}

func (c *Capture) newWriter() (*pcapWriter, error) {
	if c.opts.Out == nil {
		return nil, nil
	}
	w := &pcapWriter{buf: bufio.NewWriterSize(c.opts.Out, 1<<20)}
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Hardware: runtime.GOARCH, OS: runtime.GOOS, Application: "nslua capture"}}
	for i, s := range c.srcs {
		intf := pcapgo.NgInterface{Name: s.target.Name, LinkType: s.linkType, OS: runtime.GOOS,
			SnapLength: uint32(c.opts.Snaplen), TimestampResolution: 9, Filter: c.opts.Filter}
		var err error
		if i == 0 {
			w.ng, err = pcapgo.NewNgWriterInterface(w.buf, intf, opts)
		} else {
			_, err = w.ng.AddInterface(intf)
		}
		if err != nil {
			return nil, err
		}
	}
	return w, w.flush()
}

func (w *pcapWriter) flush() error {
	if w == nil {
		return nil
	}
	if err := w.ng.Flush(); err != nil {
		return err
	}
	return w.buf.Flush()
}

// Stop ends the capture, waits until everything read is written and
// flushed, and returns the first error met. Safe to call more than once.
func (c *Capture) Stop() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return c.Err()
}

// Done is closed when the capture has ended (Stop, Count reached, a write
// error, or every link gone).
func (c *Capture) Done() <-chan struct{} { return c.done }

// Err is the first error met (writing, or a link that went away).
func (c *Capture) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Count is the number of packets captured so far.
func (c *Capture) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// Packets returns the summaries kept so far (Options.Keep).
func (c *Capture) Packets() []Packet {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Packet(nil), c.packets...)
}

// Stats returns each link's counters; the kernel's are filled in once the
// capture has ended.
func (c *Capture) Stats() []LinkStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]LinkStats(nil), c.stats...)
}

// OutOfOrder counts packets that came later than maxHold and were written
// after newer ones (never seen unless a reader stalls for seconds).
func (c *Capture) OutOfOrder() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.outOfOrd
}

func (c *Capture) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// pkt is a packet waiting to be written.
type pkt struct {
	src     int
	seq     uint64
	ts      time.Time
	data    []byte
	wireLen int
}

// event is what a reader tells the merger: a packet, or only that nothing
// older than mark is still to come from its link, or that it ended.
type event struct {
	src   int
	pkts  []*pkt // in the order read
	mark  time.Time
	done  bool
	err   error
	stats LinkStats
}

type pktHeap []*pkt

func (h pktHeap) Len() int { return len(h) }
func (h pktHeap) Less(i, j int) bool {
	if !h[i].ts.Equal(h[j].ts) {
		return h[i].ts.Before(h[j].ts)
	}
	return h[i].seq < h[j].seq
}
func (h pktHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pktHeap) Push(x any)   { *h = append(*h, x.(*pkt)) }
func (h *pktHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	*h = old[:len(old)-1]
	return p
}

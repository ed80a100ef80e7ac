package capture

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Ring geometry. TPACKET_V3 packs packets of any size into blocks, so a
// block bounds the largest packet (GSO frames on veths reach 64 KiB); the
// ring is 4 MiB a link, twice tcpdump's default buffer.
const (
	blockSize   = 1 << 19
	frameSize   = 1 << 16
	numBlocks   = 16
	blockTov    = 10 * time.Millisecond // a partly filled block reaches us after this
	pollTimeout = 50 * time.Millisecond
	// markSlack covers the kernel's retire timer granularity (jiffies)
	// and timestamps taken on different CPUs before the ring's lock.
	markSlack = 20 * time.Millisecond
	// drainFor is how long a stopped source goes on reading what the ring
	// already holds, so that the last packets before a stop are not lost.
	drainFor = 150 * time.Millisecond
	// batchSize packets at most go to the merger at once.
	batchSize = 256
)

// source is one link's socket and the goroutine that reads it.
type source struct {
	idx      int
	target   Target
	tp       *afpacket.TPacket
	linkType layers.LinkType
	filter   *Filter
	waiter   *waiter
}

// openSource opens the link's packet socket inside its namespace. The
// socket is made on a thread that joins the namespace and is never given
// back to the scheduler (it ends with the goroutine, as in nsexec): a
// socket keeps the namespace it was created in, so it can then be read
// from any thread.
func openSource(idx int, t Target, expr string, snaplen int) (*source, error) {
	s := &source{idx: idx, target: t}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked
		errc <- s.openHere(expr, snaplen)
	}()
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("capture %s: %w", t.Name, err)
	}
	return s, nil
}

func (s *source) openHere(expr string, snaplen int) error {
	if err := unix.Setns(s.target.NsFd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter namespace: %w", err)
	}
	link, err := netlink.LinkByName(s.target.Link)
	if err != nil {
		return fmt.Errorf("no link %q in namespace %s", s.target.Link, s.target.NsName())
	}
	s.linkType = layers.LinkTypeEthernet
	if link.Attrs().EncapType == "none" { // tun, ipip...: packets start at the IP header
		s.linkType = layers.LinkTypeRaw
	}
	if s.filter, err = CompileFilter(expr, s.linkType, snaplen); err != nil {
		return err
	}
	s.tp, err = afpacket.NewTPacket(afpacket.OptInterface(s.target.Link), afpacket.TPacketVersion3,
		afpacket.OptBlockSize(blockSize), afpacket.OptFrameSize(frameSize), afpacket.OptNumBlocks(numBlocks),
		afpacket.OptBlockTimeout(blockTov), afpacket.OptPollTimeout(0))
	if err != nil {
		return fmt.Errorf("packet socket: %w", err)
	}
	if s.waiter, err = newWaiter(s.tp); err != nil {
		s.tp.Close()
		return err
	}
	if s.filter != nil {
		if err := s.tp.SetBPF(s.filter.Raw); err != nil {
			s.close()
			return fmt.Errorf("attach filter: %w", err)
		}
	}
	if err := s.tp.SetPromiscuous(true); err != nil { // as tcpdump; dropped with the socket
		s.close()
		return fmt.Errorf("promiscuous mode: %w", err)
	}
	return nil
}

// run reads until stop is closed (then drains briefly) or the link goes
// away, sending packets and watermarks to events in batches (a channel
// operation per packet costs more than the copy). It closes the socket.
func (s *source) run(stop <-chan struct{}, events chan<- event, snaplen int) {
	var drainUntil time.Time
	var err error
	var batch []*pkt
	send := func(mark time.Time) {
		events <- event{src: s.idx, pkts: batch, mark: mark}
		batch = nil
	}
	for {
		if drainUntil.IsZero() {
			select {
			case <-stop:
				drainUntil = time.Now().Add(drainFor)
			default:
			}
		} else if time.Now().After(drainUntil) {
			break
		}
		data, ci, rerr := s.tp.ZeroCopyReadPacketData()
		if errors.Is(rerr, afpacket.ErrTimeout) { // the ring is empty (afpacket does not wait)
			if !drainUntil.IsZero() {
				break
			}
			send(time.Now().Add(-blockTov - markSlack))
			s.waiter.wait(pollTimeout)
			continue
		}
		if rerr != nil {
			err = fmt.Errorf("%s: %w (was the link deleted?)", s.target.Name, rerr)
			break
		}
		if !s.filter.Match(data) {
			continue
		}
		p := newPkt(data[:min(len(data), snaplen)])
		p.src, p.ts, p.wireLen = s.idx, ci.Timestamp, ci.Length
		batch = append(batch, p)
		if len(batch) >= batchSize {
			send(ci.Timestamp.Add(-markSlack))
		}
	}
	if len(batch) > 0 {
		send(batch[len(batch)-1].ts.Add(-markSlack))
	}
	st := s.stats()
	s.close()
	events <- event{src: s.idx, done: true, err: err, stats: st}
}

func (s *source) close() {
	s.waiter.close()
	s.tp.Close()
}

// stats reads the kernel's PACKET_STATISTICS: what the filter accepted and
// what the ring had no room for.
func (s *source) stats() LinkStats {
	st := LinkStats{Name: s.target.Name}
	if _, v3, err := s.tp.SocketStats(); err == nil {
		st.Received = uint64(v3.Packets())
		st.Dropped = uint64(v3.Drops())
	}
	return st
}

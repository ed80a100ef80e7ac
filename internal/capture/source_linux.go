package capture

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Ring geometry. TPACKET_V3 packs packets of any size into blocks, so a
// block bounds the largest packet (GSO frames on veths reach 64 KiB); the
// ring is 8 MiB a link (tcpdump's default is 2 MiB: it writes each packet
// at once, nslua holds packets there until every link has shown it has
// nothing older).
const (
	blockSize = 1 << 19
	frameSize = 1 << 16
	numBlocks = 16
	blockTov  = 10 * time.Millisecond // a partly filled block reaches us after this
)

// errEmpty says a ring holds no packet right now.
var errEmpty = errors.New("ring empty")

// ring is where one link's packets come from.
type ring interface {
	// next returns the next packet, valid until the following call, or
	// errEmpty, or another error when the link is gone.
	next() ([]byte, gopacket.CaptureInfo, error)
	pollFd() int // -1: cannot be polled
	stats() LinkStats
	close()
}

// source is one link's packet socket.
type source struct {
	target   Target
	tp       *afpacket.TPacket
	fd       int
	linkType layers.LinkType
	filter   *Filter
}

// openSource opens the link's packet socket inside its namespace. The
// socket is made on a thread that joins the namespace and is never given
// back to the scheduler (it ends with the goroutine, as in nsexec): a
// socket keeps the namespace it was created in, so it can then be read
// from any thread.
func openSource(t Target, expr string, snaplen int) (*source, error) {
	s := &source{target: t}
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
	// A zero poll timeout: afpacket never blocks, the merger waits on all
	// links at once (capture.go).
	s.tp, err = afpacket.NewTPacket(afpacket.OptInterface(s.target.Link), afpacket.TPacketVersion3,
		afpacket.OptBlockSize(blockSize), afpacket.OptFrameSize(frameSize), afpacket.OptNumBlocks(numBlocks),
		afpacket.OptBlockTimeout(blockTov), afpacket.OptPollTimeout(0))
	if err != nil {
		return fmt.Errorf("packet socket: %w", err)
	}
	if s.fd, err = socketFd(s.tp); err != nil {
		s.tp.Close()
		return err
	}
	if s.filter != nil {
		if err := s.tp.SetBPF(s.filter.Raw); err != nil {
			s.tp.Close()
			return fmt.Errorf("attach filter: %w", err)
		}
	}
	if err := s.tp.SetPromiscuous(true); err != nil { // as tcpdump; dropped with the socket
		s.tp.Close()
		return fmt.Errorf("promiscuous mode: %w", err)
	}
	return nil
}

// socketFd finds the socket of tp, to poll it. afpacket does not export
// it; the field is read (never written) by reflection, and the tests
// notice if an upgrade renames it.
func socketFd(tp *afpacket.TPacket) (int, error) {
	f := reflect.ValueOf(tp).Elem().FieldByName("fd")
	if !f.IsValid() || f.Kind() != reflect.Int {
		return -1, errors.New("gopacket's afpacket no longer has the fd field nslua polls")
	}
	return int(f.Int()), nil
}

func (s *source) next() ([]byte, gopacket.CaptureInfo, error) {
	for {
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		switch {
		case errors.Is(err, afpacket.ErrTimeout):
			return nil, ci, errEmpty
		case err != nil:
			return nil, ci, fmt.Errorf("%s: %w (was the link deleted?)", s.target.Name, err)
		case s.filter.Match(data): // packets queued before the filter was attached fail here
			return data, ci, nil
		}
	}
}

func (s *source) pollFd() int { return s.fd }

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

func (s *source) close() { s.tp.Close() }

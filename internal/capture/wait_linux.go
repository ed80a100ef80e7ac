package capture

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/sys/unix"
)

// waiter waits for a ring to fill through Go's network poller (epoll).
// afpacket itself waits in a blocking poll(2), which holds one of the
// runtime's GOMAXPROCS slots for the whole wait: four links on a 2-CPU
// machine then starve each other and the merger, and the rings overflow
// (measured: 3 times tcpdump's drops). So afpacket is opened with a zero
// poll timeout (it never blocks) and the wait happens here, on a dup of
// its socket, which parks the goroutine and frees the slot.
type waiter struct {
	fd   int
	file *os.File
	rc   interface {
		Read(func(uintptr) bool) error
	}
}

// newWaiter finds the socket of tp. afpacket does not export it; the
// field is read by reflection (read only), checked by the tests.
func newWaiter(tp *afpacket.TPacket) (*waiter, error) {
	f := reflect.ValueOf(tp).Elem().FieldByName("fd")
	if !f.IsValid() || f.Kind() != reflect.Int {
		return nil, errors.New("gopacket's afpacket no longer has the fd field nslua waits on")
	}
	dup, err := unix.Dup(int(f.Int()))
	if err != nil {
		return nil, fmt.Errorf("dup packet socket: %w", err)
	}
	unix.CloseOnExec(dup)
	if err := unix.SetNonblock(dup, true); err != nil { // afpacket never reads: mmap and poll only
		unix.Close(dup)
		return nil, err
	}
	w := &waiter{fd: dup, file: os.NewFile(uintptr(dup), "packet socket")}
	rc, err := w.file.SyscallConn()
	if err != nil {
		w.file.Close()
		return nil, err
	}
	w.rc = rc
	return w, nil
}

// wait returns when the socket is readable (a block is ready) or after d.
func (w *waiter) wait(d time.Duration) {
	w.file.SetReadDeadline(time.Now().Add(d))
	w.rc.Read(func(fd uintptr) bool {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, _ := unix.Poll(pfd, 0)
		return n > 0
	})
}

func (w *waiter) close() { w.file.Close() }

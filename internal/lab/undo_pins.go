package lab

import (
	"errors"
	"io"
	"io/fs"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsfs"
)

// pinWorkers is how many pins are removed at once. Removing one is mostly
// waiting, not work: the lazy unmount waits for an expedited RCU grace
// period after it has released the mount lock, and the private
// directory's removal for the disk (on an ext4 mounted with discard, as
// this project's VM has /run, the freed block is trimmed synchronously).
// One after the other that was 2-3 ms a namespace; with workers the waits
// overlap. 32 workers did no better than 8.
const pinWorkers = 8

// isPin tells the entries undoPins takes: each is one namespace's pin and
// private directory, independent of every other's.
func isPin(e *journal.Entry) bool {
	return e.Kind == journal.KindNetns || e.Kind == journal.KindPin
}

// undoPins removes a run of consecutive pin entries (as undo would, one by
// one) with a few workers, marking each gone in j (nil: none) as soon as it
// is. What comes before and after the run waits for all of it, so the
// order of everything else is kept.
//
// Each namespace is held open until the whole run is unpinned, as a run's
// own teardown holds its namespaces: a namespace whose last reference goes
// is destroyed by the kernel in the background, and that work (deleting
// its links under the RTNL lock) asks for expedited RCU grace periods one
// after the other, which every unmount here then queues behind. With them
// held, the unpins of a killed 4096-leaf star took 7.1 s instead of 16.5 s
// (load 8); the kernel frees them all once the fds are closed at the end,
// in the background as it always does. Without enough file descriptors a
// namespace is only not held.
func (u *undoer) undoPins(batch []*journal.Entry, j *journal.Journal) {
	var mu sync.Mutex
	log := &lockedWriter{mu: &mu, w: u.log}
	var held []int
	defer func() {
		for _, fd := range held {
			unix.Close(fd)
		}
	}()
	next := make(chan *journal.Entry)
	var wg sync.WaitGroup
	for slot := range min(len(batch), pinWorkers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range next {
				w := &undoer{log: log, verbose: u.verbose, kind: e.Kind, slot: slot}
				fd := holdNetns(e)
				w.undoPin(e, j)
				mu.Lock()
				u.merge(w)
				if fd >= 0 {
					held = append(held, fd)
				}
				mu.Unlock()
			}
		}()
	}
	for _, e := range batch {
		next <- e
	}
	close(next)
	wg.Wait()
}

// undoPin is the netns/pin case of undo.
func (u *undoer) undoPin(e *journal.Entry, j *journal.Journal) {
	err := u.unpin(e)
	if e.Private != "" {
		err = errors.Join(err, u.removePrivate(e))
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		u.fail(err)
		return
	}
	if j != nil {
		j.Gone(e)
	}
}

// holdNetns opens the namespace pinned for e, -1 when it cannot (gone,
// not a namespace, out of file descriptors: then it is only not held).
func holdNetns(e *journal.Entry) int {
	fd, err := unix.Open(nsfs.PinPath(e.Name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

// merge adds what w counted and met to u.
func (u *undoer) merge(w *undoer) {
	for k, n := range w.counts {
		if u.counts == nil {
			u.counts = map[journal.Kind]int{}
		}
		u.counts[k] += n
	}
	u.errs = append(u.errs, w.errs...)
}

// lockedWriter serialises the workers' lines.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

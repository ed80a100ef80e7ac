// Package nsexec starts programs inside a network namespace the way
// `ip netns exec` does (own mount namespace, /sys remounted, /etc/netns/NAME
// bound over /etc), without a helper process per command.
//
// The trick: a Worker is an OS thread that has joined the network namespace
// and unshared a mount namespace of its own, then binds the /etc entries.
// Go's fork happens on the calling thread, so a child started from the
// worker's thread inherits exactly that environment and pays nothing more
// than a plain fork and exec. The thread never returns to the scheduler: it
// dies with its goroutine.
package nsexec

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// Worker runs work on a thread inside one namespace's exec environment.
type Worker struct {
	nsPath  string
	etcName string
	priv    *Private

	mu    sync.Mutex
	cur   *thread
	close bool
}

type thread struct {
	sig  string
	reqs chan func()
}

// NewWorker prepares a worker for the namespace pinned at nsPath whose
// /etc files live in /etc/netns/etcName. Threads start on first use.
func NewWorker(nsPath, etcName string) *Worker {
	return &Worker{nsPath: nsPath, etcName: etcName}
}

// SetPrivate gives the namespace's programs private state (nil: the
// host's view). Threads made from now on apply it; call it before the
// first Start.
func (w *Worker) SetPrivate(p *Private) {
	w.mu.Lock()
	w.priv = p
	w.mu.Unlock()
}

// Start starts cmd inside the namespace.
func (w *Worker) Start(cmd *exec.Cmd) error {
	return w.Do(cmd.Start)
}

// Do runs fn on the worker's thread, first making the thread anew if the
// /etc/netns entries changed since it was set up.
func (w *Worker) Do(fn func() error) error {
	entries, err := readEtc(w.etcName)
	if err != nil {
		return err
	}
	sig := signature(entries)
	w.mu.Lock()
	if w.close {
		w.mu.Unlock()
		return fmt.Errorf("namespace %s is closed", w.nsPath)
	}
	t := w.cur
	if t == nil || t.sig != sig {
		if t != nil {
			close(t.reqs)
		}
		t, err = w.spawn(sig, entries)
		if err != nil {
			w.cur = nil
			w.mu.Unlock()
			return err
		}
		w.cur = t
	}
	w.mu.Unlock()
	errc := make(chan error, 1)
	t.reqs <- func() { errc <- fn() }
	return <-errc
}

func (w *Worker) spawn(sig string, entries []etcEntry) (*thread, error) {
	t := &thread{sig: sig, reqs: make(chan func())}
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with us
		if err := w.enter(entries); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for fn := range t.reqs {
			fn()
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return t, nil
}

func (w *Worker) enter(entries []etcEntry) error {
	fd, err := unix.Open(w.nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", w.nsPath, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter %s: %w", w.nsPath, err)
	}
	if err := enterMountNs(w.etcName, entries); err != nil {
		return err
	}
	return bindPrivate(w.priv)
}

// Close ends the worker's thread; the mount namespace goes with it.
func (w *Worker) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.close = true
	if w.cur != nil {
		close(w.cur.reqs)
		w.cur = nil
	}
}

// ExecInPlace replaces the calling process by argv[0] run inside the
// namespace at nsPath, as `ip netns exec` does but without its extra fork,
// with the namespace's private state priv (nil: none). It returns only on
// failure, with the exit status a shell would use.
func ExecInPlace(nsPath, etcName string, priv *Private, argv []string) (int, error) {
	runtime.LockOSThread()
	entries, err := readEtc(etcName)
	if err != nil {
		return 1, err
	}
	w := &Worker{nsPath: nsPath, etcName: etcName, priv: priv}
	if err := w.enter(entries); err != nil {
		return 1, err
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return 127, fmt.Errorf("%s: command not found", argv[0])
	}
	err = unix.Exec(path, argv, os.Environ())
	return 126, fmt.Errorf("%s: %w", path, err)
}

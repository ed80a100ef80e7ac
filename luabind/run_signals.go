package luabind

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// signals routes SIGINT/SIGTERM/SIGHUP: to ns.wait when it waits, to the
// REPL's running statement (SIGINT only), otherwise it stops the run; at
// the teardown, it ends the ns.defer functions at once.
type signals struct {
	r          *Run
	ch         chan os.Signal
	mu         sync.Mutex
	waiters    []chan os.Signal
	interrupts chan struct{} // REPL statement cancel, nil outside the REPL
	done       chan struct{}
}

func newSignals(r *Run) *signals {
	s := &signals{r: r, ch: make(chan os.Signal, 4), done: make(chan struct{})}
	// SIGPIPE is taken too, and dropped: by default Go dies of it when
	// stdout is a closed pipe (`nslua lab.lua | head -1`), skipping the
	// teardown. Taken, it only makes that write fail. (Ignoring it instead
	// would be inherited by every program the lab runs.)
	signal.Notify(s.ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	go s.loop()
	return s
}

func (s *signals) close() {
	if s == nil {
		return
	}
	signal.Stop(s.ch)
	close(s.done)
}

func (s *signals) loop() {
	for {
		var sig os.Signal
		select {
		case sig = <-s.ch:
		case <-s.done:
			return
		}
		if sig == syscall.SIGPIPE {
			continue
		}
		if s.deliver(sig) {
			continue
		}
		what := fmt.Sprintf("interrupted by %v", sig)
		if s.r.isTearing() {
			what = fmt.Sprintf("%v during the teardown", sig)
		}
		s.r.stop(&stopError{what}, sig)
	}
}

// deliver hands sig to ns.wait or to the REPL; false if neither wants it.
func (s *signals) deliver(sig os.Signal) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case len(s.waiters) > 0:
		for _, w := range s.waiters {
			w <- sig
		}
		s.waiters = nil
		return true
	case sig == syscall.SIGINT && s.interrupts != nil:
		select {
		case s.interrupts <- struct{}{}:
		default:
		}
		return true
	}
	return false
}

// wait is ns.wait: it takes the next signal for itself.
func (s *signals) wait(ctx context.Context) error {
	w := make(chan os.Signal, 1)
	s.mu.Lock()
	s.waiters = append(s.waiters, w)
	s.mu.Unlock()
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// setInterrupts routes SIGINT to ch (nil: no longer).
func (s *signals) setInterrupts(ch chan struct{}) {
	s.mu.Lock()
	s.interrupts = ch
	s.mu.Unlock()
}

func exitCodeFor(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

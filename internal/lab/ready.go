package lab

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nslua/nslua/internal/inspect"
)

// ReadyFunc says whether a spawned process is ready. exited is true on the
// last call, made once the process has ended (a log may still hold the
// line that counts).
type ReadyFunc func(exited bool) (bool, error)

// WaitUntil polls ready until it returns true, the process exits, time runs
// out or ctx ends. what names the awaited condition in the error, which
// quotes the log's last lines as the other readiness errors do.
func (p *Proc) WaitUntil(ctx context.Context, ready ReadyFunc, timeout time.Duration, what string) error {
	deadline := time.Now().Add(timeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 20*time.Millisecond) {
		exited := !p.Alive()
		ok, err := ready(exited)
		switch {
		case err != nil:
			return fmt.Errorf("%s: readiness check: %w; last lines of %s:\n%s", p.Argv[0], err, p.Log, p.LogTail(10))
		case ok:
			return nil
		case exited:
			return fmt.Errorf("%s exited before it was ready (%s); last lines of %s:\n%s", p.Argv[0], what, p.Log, p.LogTail(10))
		case time.Now().After(deadline):
			return fmt.Errorf("%s not ready after %v (%s); last lines of %s:\n%s", p.Argv[0], timeout, what, p.Log, p.LogTail(10))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// LogLine is the readiness of a log pattern: a complete line that match
// accepts, or the unfinished last one once the process has exited.
func (p *Proc) LogLine(match func(line string) bool) ReadyFunc {
	seen := 0
	return func(exited bool) (bool, error) {
		lines := strings.Split(p.Output(), "\n")
		for ; seen < len(lines)-1; seen++ { // the last piece may be a partial line
			if match(lines[seen]) {
				return true, nil
			}
		}
		rest := lines[len(lines)-1]
		return exited && rest != "" && match(rest), nil
	}
}

// Listening is the readiness of a server: a socket of proto listens on
// port in the process's namespace (as inspect's listen list says).
func (p *Proc) Listening(proto string, port int) ReadyFunc {
	return func(bool) (bool, error) {
		var ok bool
		err := p.NS.inside(func() (err error) {
			ok, err = inspect.ListensOn(proto, port)
			return err
		})
		return ok, err
	}
}

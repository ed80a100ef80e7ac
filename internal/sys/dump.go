package sys

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
)

// DumpTries bounds the retries of a netlink dump the kernel reports as
// interrupted: links and addresses change while a lab is being built.
const DumpTries = 10

// Dump runs a netlink dump until the kernel reports it consistent. what
// and where name it in the error ("list links", "in /run/netns/a").
func Dump[T any](what, where string, fn func() ([]T, error)) ([]T, error) {
	var err error
	for range DumpTries {
		var v []T
		if v, err = fn(); err == nil {
			return v, nil
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return nil, fmt.Errorf("%s %s: %w", what, where, err)
		}
	}
	return nil, fmt.Errorf("%s %s: still changing after %d tries: %w", what, where, DumpTries, err)
}

package lab

import (
	"errors"
	"fmt"
	"io"

	"github.com/nslua/nslua/internal/journal"
)

// HostDown undoes the part of lab that another host holds, from the
// host's own journal there (`nslua down LAB` over ssh); how is what
// JournalHost recorded. luabind sets it: the engine knows no ssh.
var HostDown func(lab, host, how string, log io.Writer) error

// JournalHost records, before its agent starts, that host holds part of
// the lab, and how to reach it: `nslua down` here then undoes it there.
func (l *Lab) JournalHost(host, how string) (*journal.Entry, error) {
	if err := l.checkOpen(); err != nil {
		return nil, err
	}
	return l.j.Add(journal.Entry{Kind: journal.KindHost, Name: host, Cmd: how})
}

// HostUp marks the host's entry: its agent runs.
func (l *Lab) HostUp(e *journal.Entry) { l.j.Done(e) }

// HostGone marks the host's entry undone: its agent reported its part
// torn down (or it never started).
func (l *Lab) HostGone(e *journal.Entry) { l.j.Gone(e) }

func (u *undoer) downHost(e *journal.Entry) error {
	if HostDown == nil {
		return errors.New("host " + e.Name + ": this nslua cannot reach other hosts")
	}
	if err := HostDown(u.lab, e.Name, e.Cmd, u.log); err != nil {
		return fmt.Errorf("host %s: %w", e.Name, err)
	}
	u.did("removed host %s's part", e.Name)
	return nil
}

package journal

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Reopen opens the journal of lab name, read back as st, for `nslua
// down` to record what it removes: the caller holds the lab's lock. Only
// Gone is meant to be called on it, then CloseFile.
func Reopen(name string, st *State) (*Journal, error) {
	dir := Dir(name)
	// After a reboot (or a lost /run/nslua) only the persistent records
	// are left: a fresh file takes the records of what down removes.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lab %q: %w", name, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "journal"), os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lab %q: open journal: %w", name, err)
	}
	return &Journal{Name: name, Dir: dir, file: f, entries: st.Entries, kept: st.Kept}, nil
}

// CloseFile closes a reopened journal's file (the lock is the caller's).
func (j *Journal) CloseFile() { j.file.Close() }

package journal

// Records of what outlives a reboot. Namespaces, links and processes die
// with the machine, so their records may live in /run/nslua (a tmpfs on
// Debian). /etc/netns files and the backups of files a lab overwrote do
// not: their records, and the backups, live in StateDir/LAB, on disk, each
// record fsynced before the file it names is made or changed. After a
// reboot (or whenever /run/nslua/LAB is lost) `nslua down LAB` and the
// next run of the lab still find them.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// StateDir holds, per lab, the records of its /etc/netns files and the
// backups of the files it overwrote.
// Tests may point it at a directory of their own.
var StateDir = "/var/lib/nslua"

// PersistDir returns the directory of lab name's persistent records.
func PersistDir(name string) string { return filepath.Join(StateDir, name) }

// persistent reports whether records of kind go to the persistent journal.
func persistent(kind Kind) bool { return kind == KindEtcFile || kind == KindEtcDir }

var bootOnce = sync.OnceValue(func() string {
	data, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(data))
})

// BootID names the current boot; a kept lab recorded under another boot is
// not up any more, whatever its records say.
func BootID() string { return bootOnce() }

// openPersistent opens the lab's persistent journal on first use (a lab
// that writes no /etc/netns file costs no disk write). It starts with the
// lab record, and the keep record if the lab is kept already.
func (j *Journal) openPersistent() error {
	if j.pfile != nil {
		return nil
	}
	dir := PersistDir(j.Name)
	if err := mkdirDurable(dir); err != nil {
		return fmt.Errorf("lab %q: %w", j.Name, err)
	}
	path := filepath.Join(dir, "journal")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("lab %q: create %s: %w", j.Name, path, err)
	}
	j.pfile = f
	if err := j.writeFile(f, j.labRecord(), false); err != nil {
		return err
	}
	if j.kept {
		if err := j.writeFile(f, record{Op: "keep"}, false); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// SaveBackup keeps a copy of a file the lab is about to overwrite, on disk
// and synced, and returns its path for the entry's Backup field.
func (j *Journal) SaveBackup(data []byte) (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	dir := filepath.Join(PersistDir(j.Name), "backup")
	if err := mkdirDurable(dir); err != nil {
		return "", fmt.Errorf("lab %q: %w", j.Name, err)
	}
	j.backups++
	path := filepath.Join(dir, strconv.Itoa(j.backups))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return "", fmt.Errorf("lab %q: backup: %w", j.Name, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return "", fmt.Errorf("lab %q: backup %s: %w", j.Name, path, err)
	}
	return path, nil
}

// mkdirDurable makes dir and its missing parents, syncing each parent so
// that the new directory survives a power loss.
func mkdirDurable(dir string) error {
	err := os.Mkdir(dir, 0o700)
	parent := filepath.Dir(dir)
	if errors.Is(err, fs.ErrNotExist) && parent != dir {
		if err = mkdirDurable(parent); err == nil {
			err = os.Mkdir(dir, 0o700)
		}
	}
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil
	case err != nil:
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// writeFile appends r to f, synced when durable.
func (j *Journal) writeFile(f *os.File, r record, durable bool) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("lab %q: write journal: %w", j.Name, err)
	}
	if durable {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("lab %q: sync journal: %w", j.Name, err)
		}
	}
	return nil
}

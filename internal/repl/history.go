package repl

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/peterh/liner"
)

// maxHistoryLine is the longest entry written to the history file: liner's
// ReadHistory stops at the first line longer than its 4 KiB buffer, which
// would lose every entry after a big paste.
const maxHistoryLine = 4000

// DefaultHistoryFile is where the history is kept when Config.HistoryFile is
// empty: $XDG_STATE_HOME/nslua/history, or ~/.local/state/nslua/history.
func DefaultHistoryFile() (string, error) {
	if dir := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		// The XDG spec says to ignore a relative path.
		return filepath.Join(dir, "nslua", "history"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("history file: %w", err)
	}
	return filepath.Join(home, ".local", "state", "nslua", "history"), nil
}

// history keeps liner's history and appends each new entry to the file at
// once, so that two REPLs running side by side both keep theirs and a
// killed REPL loses nothing.
type history struct {
	ln   *liner.State
	path string
	file *os.File // nil when the file could not be opened
	last string
	errw io.Writer
}

// openHistory loads path into ln. A history that cannot be read or
// written is reported on errw and the REPL goes on without it.
func openHistory(ln *liner.State, path string, errw io.Writer) *history {
	h := &history{ln: ln, path: path, errw: errw}
	if path == "" {
		p, err := DefaultHistoryFile()
		if err != nil {
			h.warn(fmt.Errorf("%w; history not saved", err))
			return h
		}
		h.path = p
	}
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		h.warn(fmt.Errorf("history %s: %w; history not saved", h.path, err))
		return h
	}
	n, err := h.load()
	if err != nil {
		h.warn(err)
	}
	if n > 2*liner.HistoryLimit {
		// Liner keeps the newest HistoryLimit entries; drop the rest so
		// that the file does not grow without bound.
		if err := h.compact(); err != nil {
			h.warn(err)
		}
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		h.warn(fmt.Errorf("history %s: %w; history not saved", h.path, err))
		return h
	}
	h.file = f
	return h
}

func (h *history) load() (int, error) {
	f, err := os.Open(h.path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("history %s: %w", h.path, err)
	}
	defer f.Close()
	n, err := h.ln.ReadHistory(f)
	if err != nil {
		return n, fmt.Errorf("history %s: read: %w", h.path, err)
	}
	var b strings.Builder
	if _, err := h.ln.WriteHistory(&b); err == nil {
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		h.last = lines[len(lines)-1]
	}
	return n, nil
}

// compact rewrites the file with liner's entries, through a rename so that
// a crash leaves either the old file or the new one.
func (h *history) compact() error {
	tmp, err := os.CreateTemp(filepath.Dir(h.path), ".history-*")
	if err != nil {
		return fmt.Errorf("history %s: compact: %w", h.path, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := h.ln.WriteHistory(tmp)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		return fmt.Errorf("history %s: compact: %w", h.path, firstErr(werr, cerr))
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("history %s: compact: %w", h.path, err)
	}
	if err := os.Rename(tmp.Name(), h.path); err != nil {
		return fmt.Errorf("history %s: compact: %w", h.path, err)
	}
	return nil
}

// add records one entry (a whole chunk, see historyEntry).
func (h *history) add(entry string) {
	if strings.TrimSpace(entry) == "" || entry == h.last {
		return
	}
	h.last = entry
	h.ln.AppendHistory(entry)
	if h.file == nil || !persistable(entry) {
		return
	}
	if _, err := io.WriteString(h.file, entry+"\n"); err != nil {
		h.warn(fmt.Errorf("history %s: write: %w; history not saved", h.path, err))
		h.file.Close()
		h.file = nil // one warning is enough
	}
}

// persistable tells whether entry reads back from the file as one entry.
func persistable(entry string) bool {
	return len(entry) <= maxHistoryLine && utf8.ValidString(entry) && !strings.ContainsAny(entry, "\r\n")
}

func (h *history) close() {
	if h.file != nil {
		h.file.Close()
	}
}

func (h *history) warn(err error) {
	fmt.Fprintf(h.errw, "nslua: %v\n", err)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

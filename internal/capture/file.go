package capture

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// CreateFile opens path for a new capture. It refuses to overwrite a
// regular file with contents that is not a capture (pcap or pcapng): a
// mistyped name must not destroy the host's /etc/hosts. Devices and pipes
// (/dev/null, a FIFO to Wireshark) are fine.
func CreateFile(path string) (*os.File, error) {
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() && st.Size() > 0 && !isCaptureFile(path) {
		return nil, fmt.Errorf("%s exists and is not a pcap or pcapng file: refusing to overwrite it", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func isCaptureFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return false
	}
	for _, m := range [][]byte{{0x0a, 0x0d, 0x0d, 0x0a}, {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4},
		{0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d}} {
		if bytes.Equal(magic[:], m) {
			return true
		}
	}
	return false
}

// directWriter gathers small writes (headers, small packets) into one
// large write, as a bufio.Writer does, but passes a large one (the body
// of a 64 KiB GSO frame: pcapgo's own 4 KiB buffer hands it on at once)
// straight to the file, after what it holds: copying every byte once more
// costs more than the extra write.
type directWriter struct {
	w   io.Writer
	buf []byte
}

// directMin is the size from which a write is not copied.
const directMin = 16 << 10

func (d *directWriter) Write(p []byte) (int, error) {
	if len(p) >= directMin {
		if err := d.Flush(); err != nil {
			return 0, err
		}
		return d.w.Write(p)
	}
	if len(d.buf)+len(p) > cap(d.buf) {
		if err := d.Flush(); err != nil {
			return 0, err
		}
	}
	d.buf = append(d.buf, p...)
	return len(p), nil
}

// Flush writes what is held.
func (d *directWriter) Flush() error {
	if len(d.buf) == 0 {
		return nil
	}
	n, err := d.w.Write(d.buf)
	if err == nil && n < len(d.buf) {
		err = io.ErrShortWrite
	}
	d.buf = d.buf[:0]
	return err
}

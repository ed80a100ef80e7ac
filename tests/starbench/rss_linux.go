package starbench

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// PeakRSS returns the peak resident set size of the running process pid, in
// bytes: VmHWM in /proc/PID/status. It fails for a process that has exited,
// zombies included (their memory is gone); use ExitedMaxRSS for those.
func PeakRSS(pid int) (uint64, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("peak RSS of PID %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return parseKiB(path, v)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return 0, fmt.Errorf("%s has no VmHWM line (a zombie or a kernel thread?)", path)
}

// parseKiB turns "   1234 kB" into bytes.
func parseKiB(path, v string) (uint64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(v), " kB")
	if !ok {
		return 0, fmt.Errorf("%s: VmHWM %q is not in kB", path, strings.TrimSpace(v))
	}
	kib, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: VmHWM %q: %w", path, strings.TrimSpace(v), err)
	}
	return kib * 1024, nil
}

// ResetPeakRSS makes the peak RSS of process pid start again from its
// current RSS (writes 5 to /proc/PID/clear_refs), so that PeakRSS measures
// one phase of a long-lived process.
func ResetPeakRSS(pid int) error {
	path := fmt.Sprintf("/proc/%d/clear_refs", pid)
	if err := os.WriteFile(path, []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak RSS of PID %d: %w", pid, err)
	}
	return nil
}

// ExitedMaxRSS returns the peak resident set size of a child that has been
// waited for, in bytes (ru_maxrss, which Linux gives in KiB).
func ExitedMaxRSS(ps *os.ProcessState) (uint64, error) {
	if ps == nil {
		return 0, errors.New("max RSS: the process has not been waited for")
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0, fmt.Errorf("max RSS of PID %d: no resource usage", ps.Pid())
	}
	return uint64(ru.Maxrss) * 1024, nil
}

package starbench

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

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

package lab

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/sys"
)

// Scale is what a big lab will hold, for CheckLimits.
type Scale struct {
	Namespaces int // network namespaces the run will have open at once
	Neighbours int // neighbour entries (ARP and NDP) the lab may hold at once
}

// fdsPerNamespace is what the lab keeps open per namespace: the namespace
// fd and its netlink socket; fdsSpare is the run's own (journal, lock,
// std streams, exec workers, Lua's files).
const (
	fdsPerNamespace = 2
	fdsSpare        = 256
)

// CheckLimits checks, before a big lab is built, the machine limits it
// would run into half-way, and names each one that is too low in one line
// with the sysctl or ulimit to raise. The Go runtime already raised this
// process's soft open-files limit to the hard one at start.
//
// Neighbour tables are the kernel's, shared by every namespace:
// gc_thresh3 caps the entries of all of them together, and past it new
// neighbours fail ("neighbour table overflow"), so the check counts what
// the lab adds to what the machine holds now.
func CheckLimits(s Scale) error {
	var errs []error
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil {
		need := uint64(s.Namespaces*fdsPerNamespace + fdsSpare)
		if rl.Cur < need {
			errs = append(errs, fmt.Errorf("open files: the limit is %d (ulimit -n), %d namespaces need about %d: raise the hard limit (ulimit -Hn %d, or LimitNOFILE= of the service)",
				rl.Cur, s.Namespaces, need, need))
		}
	}
	if max, ok := readSysctlInt("user/max_net_namespaces"); ok && max < s.Namespaces {
		errs = append(errs, fmt.Errorf("network namespaces: user.max_net_namespaces is %d, the lab needs %d: sysctl -w user.max_net_namespaces=%d", max, s.Namespaces, 2*s.Namespaces))
	}
	if s.Neighbours > 0 {
		for _, fam := range []struct{ key, table string }{{"ipv4", "arp"}, {"ipv6", "ndisc"}} {
			if err := checkNeighbours(fam.key, fam.table, s.Neighbours); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// checkNeighbours compares gc_thresh3 of one family with the entries the
// lab adds to those held now (/proc/net/stat/*_cache, first field).
func checkNeighbours(family, table string, add int) error {
	key := "net/" + family + "/neigh/default/gc_thresh3"
	limit, ok := readSysctlInt(key)
	if !ok {
		return nil
	}
	held := neighbourEntries(table)
	if need := held + add; need > limit {
		name := strings.ReplaceAll(key, "/", ".")
		return fmt.Errorf("neighbour table (%s): %s is %d, %d entries are held now and the lab may add %d: sysctl -w %s=%d (and gc_thresh1/2 below it)",
			family, name, limit, held, add, name, 2*need)
	}
	return nil
}

func readSysctlInt(key string) (int, bool) {
	data, err := os.ReadFile("/proc/sys/" + key)
	if err != nil {
		return 0, false
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(data)))
	return v, err == nil
}

// neighbourEntries is the table's entry count: the first field of the
// second line of /proc/net/stat/TABLE_cache, in hex.
func neighbourEntries(table string) int {
	data, err := os.ReadFile(sys.ProcDir + "/net/stat/" + table + "_cache")
	if err != nil {
		return 0
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) < 2 {
		return 0
	}
	f := strings.Fields(lines[1])
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseInt(f[0], 16, 64)
	return int(v)
}

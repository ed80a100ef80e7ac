package sys

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// NeedRoot names the usual cause of a permission error from a namespace
// operation or from the lab state in root's /run, so that a run without
// privileges says at once what it lacks. Other errors pass unchanged.
func NeedRoot(err error) error {
	if !errors.Is(err, os.ErrPermission) {
		return err
	}
	if InUserNS() {
		return fmt.Errorf("%w (a rootless lab cannot do this: it needs real root, e.g. for the host's own links, wireless phys or namespaces; run nslua as root)", err)
	}
	return fmt.Errorf("%w (nslua must run as root: it needs CAP_SYS_ADMIN and CAP_NET_ADMIN)", err)
}

// InUserNS says whether this process is root of a user namespace that does
// not map the whole uid range: a rootless lab. (Unmapped, as after a bare
// `unshare -U`, it is uid 65534 and no lab's.)
func InUserNS() bool {
	if os.Geteuid() != 0 {
		return false
	}
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return !(len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295")
}

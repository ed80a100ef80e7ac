package tests

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// needModules skips the test unless the running kernel has every module
// named (built in or loadable). This host's kernel lacks netem, 8021q, vrf,
// dummy, gre, wireguard and mac80211_hwsim; such tests are named
// TestKernel* and run in the Debian kernel that tests/vm boots under qemu.
func needModules(t *testing.T, modules ...string) {
	t.Helper()
	var missing []string
	for _, m := range modules {
		if !haveModule(m) {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		t.Skipf("this kernel lacks %s (tests/vm runs this test in a kernel that has it)", strings.Join(missing, ", "))
	}
}

func haveModule(m string) bool {
	if _, err := os.Stat("/sys/module/" + m); err == nil {
		return true
	}
	return exec.Command("modprobe", "-q", m).Run() == nil
}

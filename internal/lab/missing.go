package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/nslua/nslua/internal/sys"
)

// knownPackage names the package of a program the labs use, for when
// neither dpkg's database nor apt-file knows it (the package is not
// installed and apt-file is not either).
var knownPackage = map[string]string{
	"dnsmasq": "dnsmasq-base", "hostapd": "hostapd", "hostapd_cli": "hostapd",
	"wpa_supplicant": "wpasupplicant", "wpa_cli": "wpasupplicant", "busybox": "busybox",
	"udhcpc": "busybox", "dhclient": "isc-dhcp-client", "dhcpcd": "dhcpcd-base",
	"ping": "iputils-ping", "tcpdump": "tcpdump", "openssl": "openssl", "iperf3": "iperf3",
	"ip": "iproute2", "bridge": "iproute2", "ss": "iproute2", "dot": "graphviz",
}

// notInstalled says why prog cannot be found and what would help: the
// package that has it, from dpkg's database when it is installed but not
// on PATH, from apt-file when that is installed, else from a short list of
// the daemons labs use; or plainly that nslua does not know.
func notInstalled(prog string) error {
	if path, err := exec.LookPath(prog); err == nil {
		// There, yet "no such file": the kernel missed what it needs to run it.
		return fmt.Errorf("%s (%s): cannot be executed: a file it needs (its #! interpreter or its dynamic loader) is missing", prog, path)
	}
	owner, ok, aptFile := sys.ProgramOwner(prog)
	switch {
	case ok && owner.From == "dpkg":
		return fmt.Errorf("%s is not on PATH (%s), but package %s installed it as %s: give that path",
			prog, os.Getenv("PATH"), owner.Package, owner.Path)
	case ok:
		return fmt.Errorf("%s is not installed (apt-get install %s)", prog, owner.Package)
	}
	if pkg := knownPackage[filepath.Base(prog)]; pkg != "" {
		return fmt.Errorf("%s is not installed (apt-get install %s)", prog, pkg)
	}
	if aptFile {
		return fmt.Errorf("%s: command not found (no Debian package known to apt-file has it)", prog)
	}
	return fmt.Errorf("%s: command not found (not in any installed package; which package has it is unknown: apt-file would say)", prog)
}

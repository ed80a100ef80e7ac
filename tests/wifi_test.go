package tests

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// The Wi-Fi lab over mac80211_hwsim (two radios; needModules loads it with
// its default of two). After each case the phys must be back in the host
// namespace with their interfaces, and nothing else left (cleanupPrefix).
func TestKernelWifi(t *testing.T) {
	needModules(t, "mac80211_hwsim")
	before := hostRadios(t)
	if len(before) < 2 {
		t.Fatalf("mac80211_hwsim is loaded but the host namespace has %d radios (%v), want 2", len(before), before)
	}
	for _, name := range []string{"TestWifiPSK", "TestWifiPSKWrong", "TestWifiPEAP", "TestWifiPEAPWrong"} {
		t.Run(strings.TrimPrefix(name, "TestWifi"), func(t *testing.T) {
			runLuaTestNamed(t, "kernel_test.lua", name)
			if after := hostRadios(t); strings.Join(after, " ") != strings.Join(before, " ") {
				t.Errorf("radios in the host namespace after teardown: %v, before: %v", after, before)
			}
		})
	}
}

// hostRadios lists "phyN/IFACE" for each radio nl80211 shows in the host namespace.
func hostRadios(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("iw", "dev").CombinedOutput()
	if err != nil {
		t.Fatalf("iw dev: %v: %s", err, out)
	}
	var radios []string
	phy := ""
	for _, line := range strings.Split(string(out), "\n") {
		if m := regexp.MustCompile(`^phy#(\d+)`).FindStringSubmatch(line); m != nil {
			phy = "phy" + m[1]
		} else if f := strings.Fields(line); len(f) == 2 && f[0] == "Interface" && phy != "" {
			radios = append(radios, phy+"/"+f[1])
			phy = ""
		}
	}
	return radios
}

// The example, end to end over the air in a kernel with mac80211_hwsim.
func TestKernelWifiExample(t *testing.T) {
	needModules(t, "mac80211_hwsim")
	for _, args := range [][]string{{"psk"}, {"peap", "wrong"}} {
		t.Run(strings.Join(args, "-"), func(t *testing.T) {
			p := prefix(t)
			cleanupPrefix(t, p)
			stdout, stderr, code := run(t, "", append([]string{"--lab", p + "-wifi", "../examples/wifi-ap.lua"}, args...)...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			want := "ping to the AP across the air: ok"
			if len(args) > 1 {
				want = "wrong credentials: not associated"
			}
			if !strings.Contains(stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, stdout)
			}
		})
	}
}

// Where the kernel has no Wi-Fi (this host's), the example fails at once
// with one line that names what is missing.
func TestWifiExampleNoRadio(t *testing.T) {
	if haveModule("mac80211_hwsim") || haveModule("cfg80211") {
		t.Skip("this kernel has Wi-Fi: TestKernelWifiExample runs the example")
	}
	p := prefix(t)
	cleanupPrefix(t, p)
	stdout, stderr, code := run(t, "", "--lab", p+"-wifi", "../examples/wifi-ap.lua")
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "mac80211_hwsim") || !strings.Contains(lines[0], "cfg80211") {
		t.Errorf("stderr is not one line naming cfg80211 and mac80211_hwsim:\n%s", stderr)
	}
	if stdout != "" {
		t.Errorf("stdout: %q", stdout)
	}
}

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
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
			start := time.Now()
			runLuaTestNamed(t, "kernel_test.lua", name)
			t.Logf("%.1f s with teardown", time.Since(start).Seconds())
			if after := hostRadios(t); strings.Join(after, " ") != strings.Join(before, " ") {
				t.Errorf("radios in the host namespace after teardown: %v, before: %v", after, before)
			}
			if left := labProcs(); len(left) > 0 {
				t.Errorf("processes of the lab still running after teardown: %v", left)
			}
		})
	}
}

// labProcs lists the live processes started by a lab of this test process
// (their environment holds NSLUA_RUN=LAB/PID), with their command names.
func labProcs() []string {
	suffix := fmt.Sprintf("/%d", os.Getpid())
	var left []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || !lcRunning(pid) {
			continue
		}
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		for _, kv := range strings.Split(string(env), "\x00") {
			if strings.HasPrefix(kv, "NSLUA_RUN=") && strings.HasSuffix(kv, suffix) {
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				left = append(left, fmt.Sprintf("%d (%s)", pid, strings.TrimSpace(string(comm))))
				break
			}
		}
	}
	return left
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

// The example, end to end over the air in a kernel with mac80211_hwsim. In
// the test VM (NSLUA_VM=1, set by tests/vm/run), where no one else uses
// radios, the module is unloaded first: the example must load it, and unload
// it again at teardown.
func TestKernelWifiExample(t *testing.T) {
	needModules(t, "mac80211_hwsim")
	vm := os.Getenv("NSLUA_VM") == "1"
	for _, args := range [][]string{{"psk"}, {"peap", "wrong"}} {
		t.Run(strings.Join(args, "-"), func(t *testing.T) {
			p := prefix(t)
			cleanupPrefix(t, p)
			if vm {
				if out, err := exec.Command("modprobe", "-r", "mac80211_hwsim").CombinedOutput(); err != nil {
					t.Fatalf("modprobe -r mac80211_hwsim: %v: %s", err, out)
				}
				defer func() {
					if _, err := os.Stat("/sys/module/mac80211_hwsim"); err == nil {
						t.Errorf("the example loaded mac80211_hwsim and left it loaded")
						exec.Command("modprobe", "-r", "mac80211_hwsim").Run()
					}
				}()
			}
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

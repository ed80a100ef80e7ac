package tests

import (
	"os"
	"testing"
)

// runLinksLuaTest runs one global Test* function of a Lua file.
func runLinksLuaTest(t *testing.T, file, name string) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	runLuaTest(t, file, string(src), name)
}

func TestKernelLinkVLANTrunk(t *testing.T) {
	needModules(t, "8021q")
	runLinksLuaTest(t, "kernel_links_test.lua", "TestVLANTrunk")
}

func TestKernelLinkVRF(t *testing.T) {
	needModules(t, "vrf")
	runLinksLuaTest(t, "kernel_links_test.lua", "TestVRFTwoTables")
}

func TestKernelLinkDummy(t *testing.T) {
	needModules(t, "dummy")
	runLinksLuaTest(t, "kernel_links_test.lua", "TestDummy")
}

func TestKernelLinkGRE(t *testing.T) {
	needModules(t, "ip_gre")
	runLinksLuaTest(t, "kernel_links_test.lua", "TestGRE")
}

func TestKernelLinkWireguard(t *testing.T) {
	needModules(t, "wireguard")
	runLinksLuaTest(t, "kernel_links_test.lua", "TestWireguard")
}

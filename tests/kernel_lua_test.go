package tests

import (
	"os"
	"testing"
)

// runLuaTestNamed runs one global Test* function of a Lua file, as
// runLuaTests does for all of them.
func runLuaTestNamed(t *testing.T, file, name string) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	runLuaTest(t, file, string(src), name)
}

func TestKernelNetemDelay(t *testing.T) {
	needModules(t, "sch_netem")
	runLuaTestNamed(t, "kernel_test.lua", "TestNetemDelay")
}

func TestKernelVLAN(t *testing.T) {
	needModules(t, "8021q")
	runLuaTestNamed(t, "kernel_test.lua", "TestVLAN")
}

package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// require looks in the script's directory, then NSLUA_PATH, then the
// libraries built into the binary.
func TestRequireOrder(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	scriptDir, pathDir := t.TempDir(), t.TempDir()
	write := func(path, content string) {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(scriptDir, "nslua", "topo.lua"), `return {who = "script dir"}`)
	write(filepath.Join(scriptDir, "both.lua"), `return {who = "script dir"}`)
	write(filepath.Join(pathDir, "both.lua"), `return {who = "NSLUA_PATH"}`)
	write(filepath.Join(pathDir, "onlypath.lua"), `return {who = "NSLUA_PATH"}`)
	script := filepath.Join(scriptDir, p+".lua")
	write(script, `
print(require("nslua.topo").who)
print(require("both").who)
print(require("onlypath").who)
print(type(require("nslua.dhcp").server))
print(pcall(require, "nowhere"))`)
	cmd := exec.Command(nslua, script)
	cmd.Env = append(os.Environ(), "NSLUA_PATH="+filepath.Join(pathDir, "?.lua"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	want := []string{"script dir", "script dir", "NSLUA_PATH", "function"}
	for i, w := range want {
		if i >= len(lines) || lines[i] != w {
			t.Fatalf("line %d: want %q; output:\n%s", i+1, w, out)
		}
	}
	if !strings.HasPrefix(lines[4], "false") || !strings.Contains(lines[4], "nowhere") {
		t.Errorf("a missing module: %q", lines[4])
	}
}

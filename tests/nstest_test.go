package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nsluaTest runs `nslua test` with the test's prefix for every lab.
func nsluaTest(t *testing.T, p string, args ...string) (string, string, int) {
	t.Helper()
	return run(t, "", append([]string{"test", "--prefix", p}, args...)...)
}

// One file with passing, failing, erroring and skipped tests: the right
// lines and exit status, a JUnit file junitparser reads with the right
// counts, TAP that prove parses.
func TestNsluaTestReports(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	junit := filepath.Join(t.TempDir(), "report.xml")
	out, stderr, code := nsluaTest(t, p, "--junit", junit, "testdata/nstest/mixed_test.lua")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, stderr)
	}
	for _, want := range []string{
		"ok    testdata/nstest/mixed_test.lua test_ping_answers",
		"ok    testdata/nstest/mixed_test.lua test_lease_in_range",
		"FAIL  testdata/nstest/mixed_test.lua test_wrong_ping_target",
		"mixed_test.lua:20: expected 10.80.0.99 to answer a ping from " + p,
		"FAIL  testdata/nstest/mixed_test.lua test_wrong_lease_range",
		"mixed_test.lua:36: expected eth0 in " + p,
		"to hold an address in 10.81.0.200-10.81.0.210 (a DHCP lease); it has 10.81.0.1",
		"ERROR testdata/nstest/mixed_test.lua test_erroring",
		"mixed_test.lua:41: attempt to index",
		"skip  testdata/nstest/mixed_test.lua test_skipped (needs a radio this machine lacks)",
		"2 passed, 3 failed, 1 skipped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	check := `import junitparser, sys
x = junitparser.JUnitXml.fromfile(sys.argv[1])
s = list(x)[0]
kinds = sorted((c.name, type(c.result[0]).__name__ if c.result else "pass") for c in s)
print(s.tests, s.failures, s.errors, s.skipped, kinds)`
	got, err := exec.Command("/usr/bin/python3", "-c", check, junit).CombinedOutput()
	want := "6 2 1 1 [('test_erroring', 'Error'), ('test_lease_in_range', 'pass'), ('test_ping_answers', 'pass'), " +
		"('test_skipped', 'Skipped'), ('test_wrong_lease_range', 'Failure'), ('test_wrong_ping_target', 'Failure')]\n"
	if err != nil || string(got) != want {
		t.Errorf("junitparser reads %s(%v), want %s", got, err, want)
	}
	tap, _, _ := nsluaTest(t, p, "--tap", "testdata/nstest/mixed_test.lua")
	tapFile := filepath.Join(t.TempDir(), "out.tap")
	os.WriteFile(tapFile, []byte(tap), 0o644)
	proved, _ := exec.Command("prove", "--exec", "cat", tapFile).CombinedOutput()
	if !strings.Contains(string(proved), "Tests=6") || !strings.Contains(string(proved), "Failed tests:  1, 5-6") ||
		strings.Contains(string(proved), "Parse errors") {
		t.Errorf("prove on the TAP output:\n%s\nTAP:\n%s", proved, tap)
	}
}

// Eight tests with the same namespace names in source, four at a time.
func TestNsluaTestParallel(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	out, stderr, code := nsluaTest(t, p, "-j", "4", "testdata/nstest/parallel_test.lua")
	if code != 0 || !strings.Contains(out, "8 passed, 0 failed, 0 skipped") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
}

// --keep-failed leaves exactly the failing test's lab up.
func TestNsluaTestKeepFailed(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	out, _, code := nsluaTest(t, p, "--keep-failed", "--run", "test_a|test_b", "testdata/nstest-slow/")
	if code != 1 || !strings.Contains(out, "its lab "+p) {
		t.Fatalf("exit %d, want 1 and a kept lab:\n%s", code, out)
	}
	labs, _ := filepath.Glob("/run/nslua/" + p + "*")
	pins, _ := filepath.Glob("/run/netns/" + p + "*")
	if len(labs) != 1 || len(pins) != 2 {
		t.Fatalf("kept labs %v, pins %v; want the failing test's lab and its 2 namespaces", labs, pins)
	}
	lab := filepath.Base(labs[0])
	if !strings.Contains(out, "`nslua down "+lab+"` removes it") {
		t.Errorf("output does not say how to remove %s:\n%s", lab, out)
	}
	if _, stderr, code := run(t, "", "down", lab); code != 0 {
		t.Fatalf("down %s: %d %s", lab, code, stderr)
	}
}

// SIGINT to `nslua test` tears the running test's lab down.
func TestNsluaTestInterrupted(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	cmd := exec.Command(nslua, "test", "--prefix", p, "--run", "test_c", "testdata/nstest-slow/")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if pins, _ := filepath.Glob("/run/netns/" + p + "*"); len(pins) == 2 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the waiting test never built its lab:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("exit %v, want 130:\n%s", err, out.String())
	}
	if left := leftovers(p); len(left) > 0 {
		t.Errorf("left after SIGINT: %v\n%s", left, out.String())
	}
}

// The example lab tests pass under `nslua test`, as a user runs them.
func TestNsluaTestExamples(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	out, stderr, code := nsluaTest(t, p, "-j", "2", "../examples/")
	if code != 0 || !strings.Contains(out, "3 passed, 0 failed, 0 skipped") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
}

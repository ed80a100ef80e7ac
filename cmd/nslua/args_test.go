package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// wantUsage checks that err is a usage error (exit status 2) saying want.
func wantUsage(t *testing.T, what string, err error, want string) {
	t.Helper()
	var e *exitError
	if !errors.As(err, &e) || e.code != 2 || !strings.Contains(e.msg, want) || !strings.Contains(e.msg, "usage:") {
		t.Errorf("%s: %v, want a usage error saying %q", what, err, want)
	}
}

func TestParseRunArgs(t *testing.T) {
	pid := os.Getpid()
	cases := []struct {
		args []string
		want runOpts
	}{
		{nil, runOpts{interactive: true, lab: fmt.Sprintf("repl-%d", pid)}},
		{[]string{"lab.lua"}, runOpts{script: "lab.lua", lab: "lab"}},
		{[]string{"dir/x.lua", "a", "-b", "--keep"}, runOpts{script: "dir/x.lua", lab: "x", args: []string{"a", "-b", "--keep"}}},
		{[]string{"--keep", "--lab", "L", "s.lua"}, runOpts{script: "s.lua", keep: true, lab: "L"}},
		{[]string{"--lab=L2", "-i", "s.lua", "x"}, runOpts{script: "s.lua", interactive: true, lab: "L2", args: []string{"x"}}},
		{[]string{"-e", "print(1)", "a", "b"}, runOpts{code: "print(1)", hasCode: true, lab: fmt.Sprintf("e-%d", pid), args: []string{"a", "b"}}},
		{[]string{"-i", "-e", ""}, runOpts{hasCode: true, interactive: true, lab: fmt.Sprintf("e-%d", pid)}},
		{[]string{"--", "-odd.lua"}, runOpts{script: "-odd.lua", lab: "-odd"}},
		{[]string{"-"}, runOpts{script: "-", lab: "-"}},
		{[]string{"--ssh-config", "c", "--hosts", "h", "s.lua"}, runOpts{script: "s.lua", lab: "s", sshConfig: "c", hostsFile: "h"}},
	}
	for _, c := range cases {
		got, err := parseRunArgs(c.args)
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if got.script != c.want.script || got.code != c.want.code || got.hasCode != c.want.hasCode ||
			got.interactive != c.want.interactive || got.keep != c.want.keep || got.lab != c.want.lab ||
			got.sshConfig != c.want.sshConfig || got.hostsFile != c.want.hostsFile || !slices.Equal(got.args, c.want.args) {
			t.Errorf("%q: got %+v, want %+v", c.args, *got, c.want)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-e"}, "-e needs an argument"},
		{[]string{"--lab"}, "--lab needs an argument"},
		{[]string{"--hosts"}, "--hosts needs an argument"},
		{[]string{"-i"}, "-i needs a script"},
		{[]string{"--kep", "x.lua"}, "unknown option --kep"},
		{[]string{"-x"}, "unknown option -x"},
	} {
		_, err := parseRunArgs(c.args)
		wantUsage(t, fmt.Sprintf("%q", c.args), err, c.want)
	}
}

func TestParseExecArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		name string
		argv []string
	}{
		{[]string{"a", "--", "ip", "addr"}, "a", []string{"ip", "addr"}},
		{[]string{"a", "true"}, "a", []string{"true"}},
		{[]string{"--", "a", "--", "sh", "-c", "x"}, "a", []string{"sh", "-c", "x"}},
		{[]string{"a", "--", "--"}, "a", []string{"--"}},
	} {
		name, argv, err := parseExecArgs(c.args)
		if err != nil || name != c.name || !slices.Equal(argv, c.argv) {
			t.Errorf("%q: %q %q %v, want %q %q", c.args, name, argv, err, c.name, c.argv)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "needs a namespace and a command"},
		{[]string{"a"}, "needs a namespace and a command"},
		{[]string{"--", "a"}, "needs a namespace and a command"},
		{[]string{"a", "--"}, "exec a: no command given"},
		{[]string{"a", ""}, "exec a: no command given"},
	} {
		_, _, err := parseExecArgs(c.args)
		wantUsage(t, fmt.Sprintf("exec %q", c.args), err, c.want)
	}
}

func TestParseInspectArgs(t *testing.T) {
	names, asJSON, err := parseInspectArgs([]string{"a", "--json", "b"})
	if err != nil || !asJSON || !slices.Equal(names, []string{"a", "b"}) {
		t.Errorf("inspect a --json b: %q %v %v", names, asJSON, err)
	}
	names, asJSON, err = parseInspectArgs(nil)
	if err != nil || asJSON || len(names) != 0 {
		t.Errorf("inspect: %q %v %v", names, asJSON, err)
	}
	_, _, err = parseInspectArgs([]string{"--yaml"})
	wantUsage(t, "inspect --yaml", err, "inspect: unknown option --yaml")
}

func TestParseGraphArgs(t *testing.T) {
	for _, c := range []struct {
		args        []string
		lab, format string
	}{
		{nil, "", "dot"},
		{[]string{"L"}, "L", "dot"},
		{[]string{"--format", "mermaid", "L"}, "L", "mermaid"},
		{[]string{"L", "--format=dot"}, "L", "dot"},
		{[]string{"--format", "svg", "-o", "x.svg"}, "", "svg"},
	} {
		lab, format, _, err := parseGraphArgs(c.args)
		if err != nil || lab != c.lab || format != c.format {
			t.Errorf("graph %q: %q %q %v, want %q %q", c.args, lab, format, err, c.lab, c.format)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "jpeg"}, `--format must be dot, mermaid, svg, png or html, not "jpeg"`},
		{[]string{"--format="}, `not ""`},
		{[]string{"--format"}, "unknown option --format"},
		{[]string{"-v"}, "unknown option -v"},
		{[]string{"a", "b"}, "at most one lab"},
	} {
		_, _, _, err := parseGraphArgs(c.args)
		wantUsage(t, fmt.Sprintf("graph %q", c.args), err, c.want)
	}
}

func TestParseLsArgs(t *testing.T) {
	if asJSON, err := parseLsArgs(nil); err != nil || asJSON {
		t.Errorf("ls: %v %v", asJSON, err)
	}
	if asJSON, err := parseLsArgs([]string{"--json"}); err != nil || !asJSON {
		t.Errorf("ls --json: %v %v", asJSON, err)
	}
	_, err := parseLsArgs([]string{"lab1"})
	wantUsage(t, "ls lab1", err, "ls: unknown argument lab1")
}

func TestParseDownArgs(t *testing.T) {
	if names, all, v, err := parseDownArgs([]string{"lab1", "lab2"}); err != nil || all || v || strings.Join(names, ",") != "lab1,lab2" {
		t.Errorf("down lab1 lab2: %q %v %v %v", names, all, v, err)
	}
	if names, all, v, err := parseDownArgs([]string{"-v", "--all"}); err != nil || !all || !v || names != nil {
		t.Errorf("down -v --all: %q %v %v %v", names, all, v, err)
	}
	if names, _, _, err := parseDownArgs([]string{"--", "-x"}); err != nil || len(names) != 1 || names[0] != "-x" {
		t.Errorf("down -- -x: %q %v", names, err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "down needs lab names or --all"},
		{[]string{"a", "--all"}, "down needs lab names or --all"},
		{[]string{"--force"}, "down: unknown option --force"},
	} {
		_, _, _, err := parseDownArgs(c.args)
		wantUsage(t, fmt.Sprintf("down %q", c.args), err, c.want)
	}
}

// TestDispatchUsageErrors runs the command line as main does: every usage
// error gives exit status 2 before anything is touched.
func TestDispatchUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"exec"}, {"exec", "a", "--"}, {"inspect", "--yaml"}, {"graph", "--format", "jpeg"},
		{"ls", "x"}, {"down"}, {"down", "-x"}, {"version", "x"}, {"-e"}, {"--lab"}, {"-i"}, {"--bogus"},
	} {
		if code := runQuiet(t, args); code != 2 {
			t.Errorf("nslua %q: exit %d, want 2", args, code)
		}
	}
	if code := runQuiet(t, []string{"--help"}); code != 0 {
		t.Errorf("nslua --help: exit %d", code)
	}
}

// runQuiet is run with stdout and stderr sent to /dev/null.
func runQuiet(t *testing.T, args []string) int {
	t.Helper()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = null, null
	defer func() { os.Stdout, os.Stderr = stdout, stderr }()
	return run(args)
}

func TestParseTestArgs(t *testing.T) {
	o, err := parseTestArgs([]string{"-j", "4", "--run", "lease", "--timeout", "1.5", "--junit", "r.xml", "--tap", "--keep-failed", "-v", "--prefix", "ci-", "x_test.lua", "dir"})
	if err != nil || o.jobs != 4 || o.run.String() != "lease" || o.timeout != 1500*time.Millisecond || o.junit != "r.xml" ||
		!o.tap || !o.keepFailed || !o.verbose || o.prefix != "ci-" || strings.Join(o.paths, ",") != "x_test.lua,dir" {
		t.Fatalf("parseTestArgs = %+v, %v", o, err)
	}
	if o, err := parseTestArgs(nil); err != nil || strings.Join(o.paths, ",") != "." || o.jobs != 1 || !strings.HasPrefix(o.prefix, "t") {
		t.Fatalf("defaults = %+v, %v", o, err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-j", "0"}, "-j takes a number from 1 to 64"},
		{[]string{"--run", "("}, "--run"},
		{[]string{"--timeout", "-1"}, "--timeout takes seconds"},
		{[]string{"--prefix", "a/b"}, "must be a short name"},
		{[]string{"--junit"}, "--junit needs a value"},
		{[]string{"--bogus"}, "unknown option --bogus"},
	} {
		_, err := parseTestArgs(c.args)
		wantUsage(t, fmt.Sprintf("test %q", c.args), err, c.want)
	}
}

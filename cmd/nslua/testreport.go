package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"
)

var statusWord = map[string]string{"pass": "ok", "fail": "FAIL", "error": "ERROR", "skip": "skip"}

// print writes one finished case: a line, the message of a failure, and
// the test's output when it failed or with -v; in TAP with --tap.
func (r *testRunner) print(c *testCase) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.o.tap {
		r.tapSeq++
		fmt.Print(tapLine(r.tapSeq, c))
		return
	}
	rep := c.report
	line := fmt.Sprintf("%-5s %s %s", statusWord[rep.Status], c.file, c.name)
	if rep.Status == "skip" {
		line += " (" + rep.Message + ")"
	} else if rep.Duration > 0 {
		line += fmt.Sprintf(" (%.2fs)", rep.Duration)
	}
	fmt.Println(line)
	if rep.Status == "fail" || rep.Status == "error" {
		fmt.Println(indentText(rep.Message, "      "))
		if rep.Kept {
			fmt.Printf("      its lab %s is kept for a look: `nslua down %s` removes it\n", c.lab, c.lab)
		}
	}
	if out := strings.TrimSpace(c.output); out != "" && (r.o.verbose || rep.Status == "error") {
		fmt.Println(indentText(out, "    | "))
	}
}

func indentText(text, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", "\n"+prefix)
}

func tapLine(n int, c *testCase) string {
	name := c.file + " " + c.name
	switch c.report.Status {
	case "pass":
		return fmt.Sprintf("ok %d - %s\n", n, name)
	case "skip":
		return fmt.Sprintf("ok %d - %s # SKIP %s\n", n, name, oneLine(c.report.Message))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "not ok %d - %s\n  ---\n  severity: %s\n  message: |\n", n, name, c.report.Status)
	b.WriteString(indentText(c.report.Message, "    ") + "\n  ...\n")
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// summary prints the counts and gives the exit status: 0 only when every
// test passed or was skipped; 130/143 when interrupted.
func (r *testRunner) summary(all []*testCase) error {
	n := map[string]int{}
	for _, c := range all {
		n[c.report.Status]++
	}
	if r.o.tap {
		fmt.Printf("1..%d\n", r.tapSeq)
	} else {
		fmt.Printf("%d passed, %d failed, %d skipped\n", n["pass"], n["fail"]+n["error"], n["skip"])
	}
	if sig := r.got; sig != nil {
		code := 1
		if s, ok := sig.(syscall.Signal); ok {
			code = 128 + int(s)
		}
		return &exitError{code: code, msg: fmt.Sprintf("test: %v: stopped, the running tests' labs torn down", sig)}
	}
	if n["fail"]+n["error"] > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// JUnit XML as Jenkins, GitLab and junitparser read it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(path string, all []*testCase) error {
	bySuite := map[string]*junitSuite{}
	var names []string
	root := junitSuites{}
	var total float64
	for _, c := range all {
		s := bySuite[c.file]
		if s == nil {
			s = &junitSuite{Name: c.file}
			bySuite[c.file] = s
			names = append(names, c.file)
		}
		jc := junitCase{Name: c.name, Classname: strings.TrimSuffix(c.file, ".lua"), Time: fmt.Sprintf("%.3f", c.report.Duration)}
		p := &junitProblem{Message: oneLine(c.report.Message), Text: c.report.Message}
		switch c.report.Status {
		case "fail":
			jc.Failure, s.Failures = p, s.Failures+1
		case "error":
			jc.Error, s.Errors = p, s.Errors+1
		case "skip":
			jc.Skipped, s.Skipped = p, s.Skipped+1
		}
		if c.report.Status != "pass" {
			jc.SystemOut = c.output
		}
		s.Tests++
		s.Cases = append(s.Cases, jc)
		total += c.report.Duration
	}
	sort.Strings(names)
	for _, name := range names {
		s := bySuite[name]
		var t float64
		for _, c := range s.Cases {
			var d float64
			fmt.Sscan(c.Time, &d)
			t += d
		}
		s.Time = fmt.Sprintf("%.3f", t)
		root.Tests, root.Failures, root.Errors, root.Skipped = root.Tests+s.Tests, root.Failures+s.Failures, root.Errors+s.Errors, root.Skipped+s.Skipped
		root.Suites = append(root.Suites, *s)
	}
	root.Time = fmt.Sprintf("%.3f", total)
	data, err := xml.MarshalIndent(root, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(data, '\n')...), 0o644)
}

package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nslua/nslua/internal/nsfs"
)

const testUsage = "usage: nslua test [PATH...] [--run PATTERN] [-j N] [--timeout SECONDS] [--junit FILE] [--tap] [--keep-failed] [--prefix P] [-v]"

// testOpts are `nslua test`'s options.
type testOpts struct {
	paths      []string
	run        *regexp.Regexp
	jobs       int
	timeout    time.Duration
	junit      string
	tap        bool
	keepFailed bool
	verbose    bool
	prefix     string // of every lab and namespace name the tests make
}

// testCase is one test of one file, and what became of it.
type testCase struct {
	file, name string
	lab        string // the lab it ran in
	report     testReport
	output     string // the child's stdout and stderr
}

func cmdTest(args []string) error {
	o, err := parseTestArgs(args)
	if err != nil {
		return err
	}
	files, err := testFiles(o.paths)
	if err != nil {
		return &exitError{code: 2, msg: "test: " + err.Error()}
	}
	if len(files) == 0 {
		return &exitError{code: 2, msg: fmt.Sprintf("test: no *_test.lua files in %s", strings.Join(o.paths, " "))}
	}
	r := newTestRunner(o)
	defer r.stop()
	cases, listErrs := r.list(files)
	if len(cases) == 0 && len(listErrs) == 0 {
		return &exitError{code: 2, msg: "test: no test matches"}
	}
	r.runAll(cases)
	all := append(listErrs, cases...)
	if o.junit != "" {
		if err := writeJUnit(o.junit, all); err != nil {
			return &exitError{code: 1, msg: "test: " + err.Error()}
		}
	}
	return r.summary(all)
}

func parseTestArgs(args []string) (*testOpts, error) {
	o := &testOpts{jobs: 1, timeout: 300 * time.Second}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "--run", "-j", "--timeout", "--junit", "--prefix":
			if i+1 >= len(args) {
				return nil, usageErr("test: %s needs a value\n%s", a, testUsage)
			}
			i++
			if err := o.setValue(a, args[i]); err != nil {
				return nil, err
			}
		case "--tap":
			o.tap = true
		case "--keep-failed":
			o.keepFailed = true
		case "-v":
			o.verbose = true
		default:
			if strings.HasPrefix(a, "-") {
				return nil, usageErr("test: unknown option %s\n%s", a, testUsage)
			}
			o.paths = append(o.paths, a)
		}
	}
	if len(o.paths) == 0 {
		o.paths = []string{"."}
	}
	if o.prefix == "" {
		o.prefix = fmt.Sprintf("t%d-", os.Getpid())
	}
	return o, nil
}

// setValue sets the option that takes a value.
func (o *testOpts) setValue(opt, v string) error {
	var err error
	switch opt {
	case "--run":
		if o.run, err = regexp.Compile(v); err != nil {
			return usageErr("test: --run %q: %v", v, err)
		}
	case "-j":
		if o.jobs, err = strconv.Atoi(v); err != nil || o.jobs < 1 || o.jobs > 64 {
			return usageErr("test: -j takes a number from 1 to 64, not %q", v)
		}
	case "--timeout":
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs <= 0 {
			return usageErr("test: --timeout takes seconds (> 0), not %q", v)
		}
		o.timeout = time.Duration(secs * float64(time.Second))
	case "--junit":
		o.junit = v
	case "--prefix":
		if err := nsfs.ValidateName(v + "0"); err != nil || strings.HasPrefix(v, "-") || len(v) > 40 {
			return usageErr("test: --prefix %q: must be a short name (no '/', not starting with '-')", v)
		}
		o.prefix = v
	}
	return nil
}

// testFiles finds the *_test.lua files: named ones as they are, and those
// below named directories, sorted.
func testFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), "_test.lua") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

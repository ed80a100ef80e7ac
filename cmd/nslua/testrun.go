package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// testRunner starts one child nslua per test file listing and per test,
// each in a lab of its own: a test that crashes, hangs or leaks cannot
// touch the others, and each child tears its own lab down as any run does.
type testRunner struct {
	o    *testOpts
	self string // this binary
	sigs chan os.Signal

	mu       sync.Mutex
	seq      int
	running  map[*exec.Cmd]bool
	stopping bool
	got      os.Signal
	tapSeq   int
}

func newTestRunner(o *testOpts) *testRunner {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	r := &testRunner{o: o, self: self, sigs: make(chan os.Signal, 4), running: map[*exec.Cmd]bool{}}
	signal.Notify(r.sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go r.forwardSignals()
	if o.tap {
		fmt.Println("TAP version 13")
	}
	return r
}

// forwardSignals stops starting tests and passes the signal on to the
// running ones, which then tear their labs down.
func (r *testRunner) forwardSignals() {
	for sig := range r.sigs {
		r.mu.Lock()
		r.stopping = true
		if r.got == nil {
			r.got = sig
		}
		for cmd := range r.running {
			cmd.Process.Signal(sig)
		}
		r.mu.Unlock()
	}
}

func (r *testRunner) stop() { signal.Stop(r.sigs) }

func (r *testRunner) stopped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopping
}

// labName gives every child a lab (and namespace prefix) of its own.
func (r *testRunner) labName() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	return fmt.Sprintf("%s%d", r.o.prefix, r.seq)
}

// list asks a child per file for its tests. A file that fails to load is
// one erroring case.
func (r *testRunner) list(files []string) (cases, broken []*testCase) {
	for _, f := range files {
		lab := r.labName()
		rep, out := r.child(lab, f, "--test-list")
		if rep.Status == "error" || rep.Tests == nil {
			if rep.Message == "" {
				rep.Message = "could not list its tests:\n" + out
			}
			broken = append(broken, &testCase{file: f, name: "(load)", lab: lab, report: testReport{Status: "error", Message: rep.Message}, output: out})
			continue
		}
		for _, name := range rep.Tests {
			if r.o.run == nil || r.o.run.MatchString(name) {
				cases = append(cases, &testCase{file: f, name: name})
			}
		}
	}
	for _, c := range broken {
		r.print(c)
	}
	return cases, broken
}

// runAll runs the cases, o.jobs at a time, printing each as it ends.
func (r *testRunner) runAll(cases []*testCase) {
	next := make(chan *testCase)
	var wg sync.WaitGroup
	for range r.o.jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				r.runCase(c)
				r.print(c)
			}
		}()
	}
	for _, c := range cases {
		if r.stopped() {
			break
		}
		next <- c
	}
	close(next)
	wg.Wait()
}

func (r *testRunner) runCase(c *testCase) {
	c.lab = r.labName()
	args := []string{"--test-run=" + c.name, "--test-prefix=" + c.lab + "-"}
	if r.o.keepFailed {
		args = append(args, "--test-keep-failed")
	}
	c.report, c.output = r.child(c.lab, c.file, args...)
	if c.report.Status == "" {
		c.report = testReport{Status: "error", Message: "the test's nslua ended without a result"}
		if r.stopped() {
			c.report.Message = "interrupted"
		}
	}
}

// child runs `nslua --lab LAB ARGS FILE` and reads its report from fd 3.
func (r *testRunner) child(lab, file string, args ...string) (testReport, string) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return testReport{Status: "error", Message: err.Error()}, ""
	}
	cmd := exec.Command(r.self, append(append([]string{"--lab", lab}, args...), file)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.ExtraFiles = []*os.File{pw}
	cmd.Env = append(os.Environ(), testResultEnv+"=3")
	var rep testReport
	decoded := make(chan struct{})
	go func() { json.NewDecoder(pr).Decode(&rep); close(decoded) }()
	if err := r.start(cmd); err != nil {
		pw.Close()
		pr.Close()
		return testReport{Status: "error", Message: err.Error()}, ""
	}
	pw.Close()
	timedOut := r.wait(cmd, lab)
	<-decoded
	pr.Close()
	if timedOut {
		rep.Status = "error"
		rep.Message = fmt.Sprintf("timed out after %v (--timeout); its lab was torn down", r.o.timeout)
	}
	return rep, out.String()
}

func (r *testRunner) start(cmd *exec.Cmd) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return fmt.Errorf("interrupted")
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	r.running[cmd] = true
	return nil
}

// wait waits for the child; past the timeout it is sent SIGTERM (it tears
// down), and SIGKILL 20 s later, after which its journal is undone.
func (r *testRunner) wait(cmd *exec.Cmd, lab string) (timedOut bool) {
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(r.o.timeout):
		timedOut = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			exec.Command(r.self, "down", lab).Run()
		}
	}
	r.mu.Lock()
	delete(r.running, cmd)
	r.mu.Unlock()
	return timedOut
}

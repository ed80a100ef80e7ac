package main

import (
	"encoding/json"
	"os"
	"strconv"
	"time"

	"github.com/nslua/nslua/internal/repl"
	"github.com/nslua/nslua/luabind"
)

// testResultEnv names the file descriptor on which a test child (`nslua
// --test-run NAME FILE`, started by `nslua test`) reports to its runner.
const testResultEnv = "NSLUA_TEST_RESULT_FD"

// testReport is what a child tells its runner.
type testReport struct {
	Tests    []string `json:"tests,omitempty"` // for --test-list
	Status   string   `json:"status,omitempty"`
	Message  string   `json:"message,omitempty"`
	Duration float64  `json:"duration,omitempty"`
	Kept     bool     `json:"kept,omitempty"`
}

func (r testReport) send() {
	fd, err := strconv.Atoi(os.Getenv(testResultEnv))
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "test-result")
	json.NewEncoder(f).Encode(r)
	f.Close()
}

// runTestChild runs, after the file's main chunk has defined its tests,
// what the runner asked for: the list of tests or one of them.
func runTestChild(r *luabind.Run, o *runOpts, chunkErr error) {
	if chunkErr != nil {
		testReport{Status: "error", Message: repl.ErrorMessage(chunkErr)}.send()
		return
	}
	tests := r.RT.Tests(r.L)
	if o.testList {
		r := testReport{Tests: []string{}}
		for _, t := range tests {
			r.Tests = append(r.Tests, t.Name)
		}
		r.send()
		return
	}
	for _, t := range tests {
		if t.Name == o.testRun {
			runOneTest(r, t, o)
			return
		}
	}
	testReport{Status: "error", Message: "no test named " + o.testRun + " in " + o.script}.send()
}

func runOneTest(r *luabind.Run, t luabind.Test, o *runOpts) {
	start := time.Now()
	err := r.Call(t.Fn)
	rep := testReport{Status: "pass", Duration: time.Since(start).Seconds()}
	if err != nil {
		if status, msg, ok := r.RT.Marked(err); ok {
			rep.Status, rep.Message = status, msg
		} else {
			rep.Status, rep.Message = "error", repl.ErrorMessage(err)
		}
	}
	if (rep.Status == "fail" || rep.Status == "error") && o.testKeepFailed {
		r.Lab.Keep()
		rep.Kept = true
	}
	rep.send()
}

package main

import (
	"encoding/json"
	"os"
	"strconv"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/lab"
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
func runTestChild(L *lua.LState, rt *luabind.Runtime, o *runOpts, l *lab.Lab, chunkErr error) {
	if chunkErr != nil {
		testReport{Status: "error", Message: luaErrorMessage(chunkErr, l)}.send()
		return
	}
	tests := rt.Tests(L)
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
			runOneTest(L, rt, t, o, l)
			return
		}
	}
	testReport{Status: "error", Message: "no test named " + o.testRun + " in " + o.script}.send()
}

func runOneTest(L *lua.LState, rt *luabind.Runtime, t luabind.Test, o *runOpts, l *lab.Lab) {
	start := time.Now()
	L.Push(t.Fn)
	err := L.PCall(0, 0, nil)
	r := testReport{Status: "pass", Duration: time.Since(start).Seconds()}
	if err != nil {
		if status, msg, ok := rt.Marked(err); ok {
			r.Status, r.Message = status, msg
		} else {
			r.Status, r.Message = "error", luaErrorMessage(err, l)
		}
	}
	if (r.Status == "fail" || r.Status == "error") && o.testKeepFailed {
		l.Keep()
		r.Kept = true
	}
	r.send()
}

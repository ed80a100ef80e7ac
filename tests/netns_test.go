package tests

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nslua/nslua/internal/lab"
)

func TestNetnsLua(t *testing.T) { runLuaTests(t, "netns_test.lua") }

// Twenty processes add at once: the flock on /run/netns keeps them apart.
func TestConcurrentAdds(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	var wg sync.WaitGroup
	errs := make([]string, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := fmt.Sprintf(`ns.add("%s%02d"); ns.keep()`, p, i)
			_, stderr, status := run(t, "", "--lab", fmt.Sprintf("%sl%02d", p, i), "-e", code)
			if status != 0 {
				errs[i] = fmt.Sprintf("run %d: exit %d: %s", i, status, stderr)
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
	pins, _ := filepath.Glob("/run/netns/" + p + "*")
	if len(pins) != 20 {
		t.Errorf("%d pins, want 20: %v", len(pins), pins)
	}
	for i := range 20 {
		if _, stderr, status := run(t, "", "down", fmt.Sprintf("%sl%02d", p, i)); status != 0 {
			t.Errorf("down %d: %s", i, stderr)
		}
	}
}

// After add and open, no thread of this process is left in another
// network namespace.
func TestThreadsStayInTheirNamespace(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	l, err := lab.Start(p+"-lab", "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	want, _ := os.Readlink("/proc/self/ns/net")
	for i := range 10 {
		n, err := l.Add(fmt.Sprintf("%s%d", p, i), lab.AddOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Open(n.Name); err != nil {
			t.Fatal(err)
		}
	}
	// A thread that switched namespaces is thrown away when its work is done,
	// but the kernel removes it from /proc a moment later: wait for those.
	// A thread left in another namespace for good stays there.
	var wrong []string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		wrong = threadsElsewhere(want)
		if len(wrong) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(wrong) > 0 {
		sort.Strings(wrong)
		t.Errorf("threads in another namespace (want %s):\n%s", want, strings.Join(wrong, "\n"))
	}
}

// threadsElsewhere lists the threads of this process whose network
// namespace is not want.
func threadsElsewhere(want string) []string {
	tasks, _ := filepath.Glob("/proc/self/task/*/ns/net")
	var wrong []string
	for _, task := range tasks {
		if got, err := os.Readlink(task); err == nil && got != want {
			wrong = append(wrong, task+" -> "+got)
		}
	}
	return wrong
}

package tests

// Issue 13, items 4, 5, 6 and 11: teardown removes only the /etc/netns
// files it made (by identity), n:etc refuses FIFOs and devices at once, the
// records of /etc/netns files survive a lost /run/nslua (a reboot), and
// labs sharing /etc/netns race on nothing and leave no empty directory.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/lab"
)

// replaceFile puts a new file (a new inode) at path, as an editor or a
// configuration tool does.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path+".new", []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(data)
}

// Item 4: files someone else put in the place of the lab's during the run
// (an admin replacing one, another lab removing one and writing its own)
// are neither removed nor "restored" at teardown; it says so. The lab's
// own file still goes.
func TestEtcTeardownLeavesOthersFiles(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	dir := "/etc/netns/" + p + "x"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	plant(t, dir)
	if err := os.WriteFile(dir+"/group", []byte("original group\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	l, err := lab.Start(p+"-lab", "", &log)
	if err != nil {
		t.Fatal(err)
	}
	etc := map[string]string{"hosts": "lab\n", "passwd": "lab\n", "group": "lab\n", "own.conf": "lab\n"}
	if _, err := l.Add(p+"x", lab.AddOptions{Etc: etc}); err != nil {
		l.Close()
		t.Fatal(err)
	}
	replaceFile(t, dir+"/hosts", "admin hosts\n")
	replaceFile(t, dir+"/group", "admin group\n")
	os.Remove(dir + "/passwd")
	if err := os.WriteFile(dir+"/passwd", []byte("other lab\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if errs := l.Close(); len(errs) > 0 {
		t.Errorf("teardown: %v", errs)
	}
	t.Logf("teardown said:\n%s", log.String())
	for file, want := range map[string]string{"hosts": "admin hosts\n", "group": "admin group\n", "passwd": "other lab\n"} {
		if got := readString(t, dir+"/"+file); got != want {
			t.Errorf("%s/%s: %q after teardown, want %q (someone else's)", dir, file, got, want)
		}
		if !strings.Contains(log.String(), "left "+dir+"/"+file) {
			t.Errorf("teardown does not report that it left %s/%s", dir, file)
		}
	}
	if _, err := os.Stat(dir + "/own.conf"); err == nil {
		t.Errorf("the lab's own file was left")
	}
}

// Item 5: n:etc of a FIFO or a device fails at once with a clear error
// (it does not block, nor read without end), and no program runs with it
// bound over /etc.
func TestEtcRefusesSpecialFiles(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	dir := "/etc/netns/" + p + "x"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	plant(t, dir)
	if err := unix.Mkfifo(dir+"/fifo", 0o644); err != nil {
		t.Fatal(err)
	}
	s := newSymLab(t, p)
	s.run(t, `n = ns.add(P .. "x")`)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.refused(t, `n:etc("fifo")`, ":etc", "FIFO")
		s.refused(t, `n:etc("fifo", "x")`, ":etc", "FIFO")
		s.refused(t, `n:exec({"true"})`, ":exec", "FIFO")
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("n:etc of a FIFO blocks")
	}
	os.Remove(dir + "/fifo")
	if err := unix.Mknod(dir+"/zero", unix.S_IFCHR|0o644, int(unix.Mkdev(1, 5))); err != nil {
		t.Fatal(err)
	}
	s.refused(t, `n:etc("zero")`, ":etc", "character device")
	s.refused(t, `n:etc("zero", "x")`, ":etc", "character device")
	s.refused(t, `n:exec({"true"})`, ":exec", "character device")
}

// Item 6: a kept lab's /etc/netns records live in /var/lib/nslua/LAB. When
// /run/nslua/LAB is lost (as in a reboot, which also ends the namespaces),
// `nslua down` still removes the lab's files and restores the one it
// overwrote; a new run of the lab is refused in the same boot (the lab is
// up, as far as anyone knows) and, in another boot, first cleans up.
func TestEtcRecordsSurviveLostRun(t *testing.T) {
	for _, how := range []string{"down", "rerun"} {
		t.Run(how, func(t *testing.T) {
			p := prefix(t)
			cleanupPrefix(t, p)
			name, dir := p+"-lab", "/etc/netns/"+p+"x"
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			plant(t, dir)
			if err := os.WriteFile(dir+"/hosts", []byte("original\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			code := fmt.Sprintf(`ns.add(%q, {etc = {hosts = "lab\n", ["sub/a.conf"] = "a\n"}})`, p+"x")
			if _, stderr, rc := run(t, "", "--keep", "--lab", name, "-e", code); rc != 0 {
				t.Fatalf("kept run: exit %d: %s", rc, stderr)
			}
			// The reboot: /run is gone, and the namespace with it.
			if err := os.RemoveAll("/run/nslua/" + name); err != nil {
				t.Fatal(err)
			}
			sh(t, "ip netns del "+p+"x")
			if how == "down" {
				out, stderr, rc := run(t, "", "down", name)
				t.Logf("down: %s%s", out, stderr)
				if rc != 0 {
					t.Errorf("down: exit %d", rc)
				}
			} else {
				rerun(t, name)
			}
			if got := readString(t, dir+"/hosts"); got != "original\n" {
				t.Errorf("hosts: %q, want the original back", got)
			}
			for _, gone := range []string{dir + "/sub", dir + "/resolv.conf", "/var/lib/nslua/" + name, "/run/nslua/" + name} {
				if _, err := os.Lstat(gone); err == nil {
					t.Errorf("%s is left", gone)
				}
			}
		})
	}
}

// rerun checks that a new run of a lab kept in this boot is refused, and
// one of a lab kept in another boot cleans up and runs.
func rerun(t *testing.T, name string) {
	t.Helper()
	if _, stderr, rc := run(t, "", "--lab", name, "-e", ""); rc != 1 || !strings.Contains(stderr, "nslua down "+name) {
		t.Errorf("a new run in the same boot: exit %d, want 1 and a hint to run nslua down: %s", rc, stderr)
	}
	journal := "/var/lib/nslua/" + name + "/journal"
	data, err := os.ReadFile(journal)
	if err != nil {
		t.Fatalf("the persistent records: %v", err)
	}
	other := regexp.MustCompile(`"boot":"[^"]*"`).ReplaceAll(data, []byte(`"boot":"another-boot"`))
	if err := os.WriteFile(journal, other, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, rc := run(t, "", "--lab", name, "-e", `print("ran")`)
	t.Logf("the run after the reboot: %s%s", out, stderr)
	if rc != 0 || out != "ran\n" || !strings.Contains(stderr, "before a reboot") {
		t.Errorf("a new run after a reboot: exit %d, stdout %q", rc, out)
	}
}

// Item 11: labs writing files for one shared (`ip`-made) namespace, again
// and again, ending in every order: no write fails because another lab
// removed the directory meanwhile, and no empty directory is left.
func TestEtcSharedDirConcurrentLabs(t *testing.T) {
	p := prefix(t)
	cleanupPrefix(t, p)
	shared := p + "x"
	sh(t, "ip netns add "+shared)
	t.Cleanup(func() { sh(t, "ip netns del "+shared) })
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for _, who := range []string{"a", "b", "c"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				if err := sharedRound(p+"-"+who, shared, fmt.Sprintf("%s%d.conf", who, i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := os.Lstat("/etc/netns/" + shared); err == nil {
		t.Errorf("/etc/netns/%s is left", shared)
	}
}

func sharedRound(labName, shared, file string) error {
	l, err := lab.Start(labName, "", io.Discard)
	if err != nil {
		return err
	}
	n, err := l.Open(shared)
	if err == nil {
		err = n.WriteEtc(file, "x\n")
	}
	if err == nil {
		err = n.WriteEtc("sub/"+file, "x\n")
	}
	if errs := l.Close(); err == nil && len(errs) > 0 {
		err = errs[0]
	}
	return err
}

// Item 11: /etc/netns itself, made by the first of two labs, is gone when
// both have ended, whichever ends first (a scratch /etc without netns).
func TestEtcNetnsDirGoneInAnyOrder(t *testing.T) {
	for _, first := range []string{"a", "b"} {
		t.Run(first+"-first", func(t *testing.T) {
			p := prefix(t)
			cleanupPrefix(t, p)
			scratch := newScratchEtc(t)
			syncDir := t.TempDir()
			script := filepath.Join(syncDir, "wait.lua")
			lua := `local p, who, dir = arg[1], arg[2], arg[3]
				ns.add(p .. who, {etc = {hosts = who .. "\n"}})
				io.open(dir .. "/ready-" .. who, "w"):close()
				while not io.open(dir .. "/go-" .. who) do ns.sleep(0.02) end`
			if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
				t.Fatal(err)
			}
			second := map[string]string{"a": "b", "b": "a"}[first]
			cmd := fmt.Sprintf(`S=%[3]s; waitfor() { while [ ! -e "$S/$1" ]; do sleep 0.02; done; }
				"$NSLUA" --lab %[1]s-a $S/wait.lua %[1]s a $S & A=$!
				waitfor ready-a
				"$NSLUA" --lab %[1]s-b $S/wait.lua %[1]s b $S & B=$!
				waitfor ready-b
				ls /etc/netns
				touch $S/go-%[2]s; wait $%[4]s || exit 1
				touch $S/go-%[5]s; wait $%[6]s || exit 1
				ls -d /etc/netns 2>/dev/null && ls -la /etc/netns; exit 0`,
				p, first, syncDir, strings.ToUpper(first), second, strings.ToUpper(second))
			out, code := scratchRun(t, scratch, cmd)
			t.Logf("%s", out)
			if code != 0 {
				t.Errorf("exit %d", code)
			}
			if _, err := os.Lstat(filepath.Join(scratch, "netns")); err == nil {
				t.Errorf("an empty /etc/netns is left")
			}
		})
	}
}

// Item 4: two labs write the same file for one shared namespace. Whichever
// ends first leaves the other's content in place; when both have ended,
// the file is gone (not "restored" to the first lab's content).
func TestEtcSharedFileTwoLabs(t *testing.T) {
	for _, first := range []string{"a", "b"} {
		t.Run(first+"-first", func(t *testing.T) {
			p := prefix(t)
			cleanupPrefix(t, p)
			shared := p + "x"
			sh(t, "ip netns add "+shared)
			t.Cleanup(func() { sh(t, "ip netns del "+shared) })
			file := "/etc/netns/" + shared + "/hosts"
			labs := map[string]*lab.Lab{}
			for _, who := range []string{"a", "b"} {
				l, err := lab.Start(p+"-"+who, "", io.Discard)
				if err != nil {
					t.Fatal(err)
				}
				labs[who] = l
				n, err := l.Open(shared)
				if err == nil {
					err = n.WriteEtc("hosts", who+"\n")
				}
				if err != nil {
					l.Close()
					t.Fatal(err)
				}
			}
			second := map[string]string{"a": "b", "b": "a"}[first]
			if errs := labs[first].Close(); len(errs) > 0 {
				t.Errorf("teardown of %s: %v", first, errs)
			}
			if got, want := readString(t, file), map[string]string{"a": "b\n", "b": "a\n"}[first]; got != want {
				t.Errorf("after lab %s ended: %q, want %q (lab %s's, still running)", first, got, want, second)
			}
			if errs := labs[second].Close(); len(errs) > 0 {
				t.Errorf("teardown of %s: %v", second, errs)
			}
			if _, err := os.Lstat(file); err == nil {
				t.Errorf("%s is left: %q", file, readString(t, file))
			}
		})
	}
}

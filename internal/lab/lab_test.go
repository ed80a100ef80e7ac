package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsfs"
)

// setUpLab starts a lab of its own for one test, as netlink's
// setUpNetlinkTest gives each test a fresh namespace: its journal lives in
// a temporary directory, its namespaces are named prefix+something, and
// whatever the test leaves is torn down, and checked gone, at the end.
func setUpLab(t *testing.T) (*Lab, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces")
	}
	old, oldState := journal.BaseDir, journal.StateDir
	journal.BaseDir, journal.StateDir = t.TempDir(), t.TempDir()
	b := make([]byte, 3)
	rand.Read(b)
	prefix := "t" + hex.EncodeToString(b)
	l, err := Start(prefix, "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if errs := l.Close(); len(errs) > 0 {
			t.Errorf("teardown: %v", errs)
		}
		wantNoPins(t, prefix)
		journal.BaseDir, journal.StateDir = old, oldState
	})
	return l, prefix
}

func wantNoPins(t *testing.T, prefix string) {
	t.Helper()
	names, _ := nsfs.List()
	for _, name := range names {
		if strings.HasPrefix(name, prefix) {
			t.Errorf("%s left behind", nsfs.PinPath(name))
			nsfs.Unpin(name)
		}
	}
}

func TestLabBuildsARoutedPairAndTearsItDown(t *testing.T) {
	l, p := setUpLab(t)
	a, err := l.Add(p+"a", AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Add(p+"r", AddOptions{Sysctl: map[string]string{"net.ipv4.ip_forward": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Veth("eth0", r, "a0", VethOptions{Addr: []string{"10.1.0.2/24"}, PeerAddr: []string{"10.1.0.1/24"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.AddRoute(Route{Dst: "default", Via: "10.1.0.1"}); err != nil {
		t.Fatal(err)
	}
	if v, err := r.Sysctl("net.ipv4.ip_forward"); err != nil || v != "1" {
		t.Errorf("ip_forward in the router = %q, %v", v, err)
	}
	res, err := a.Exec(context.Background(), &Cmd{Argv: []string{"ping", "-c1", "-W2", "10.1.0.1"}})
	if err != nil || res.Code != 0 {
		t.Fatalf("ping across the veth: %+v, %v", res, err)
	}
	if err := a.AddRoute(Route{Dst: "default", Via: "10.1.0.1"}); !errors.Is(err, ErrExists) {
		t.Errorf("the same route twice: %v", err)
	}
	if err := a.AddRoute(Route{Dst: "10.9.0.0/24", Dev: "eth9"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("a route on a missing device: %v", err)
	}
	dir := l.Dir
	if errs := l.Close(); len(errs) > 0 {
		t.Fatal(errs)
	}
	wantNoPins(t, p)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lab's directory %s is still there: %v", dir, err)
	}
}

func TestAddTwiceIsErrExistsUnlessExistOK(t *testing.T) {
	l, p := setUpLab(t)
	n, err := l.Add(p+"x", AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Add(p+"x", AddOptions{})
	if !errors.Is(err, ErrExists) || err.Error() != nsfs.PinPath(p+"x")+" already exists" {
		t.Errorf("second Add: %v", err)
	}
	again, err := l.Add(p+"x", AddOptions{ExistOK: true})
	if err != nil || again != n {
		t.Errorf("Add with ExistOK = %v, %v; want the same handle", again, err)
	}
	if _, err := l.Open(p + "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open of a missing namespace: %v", err)
	}
}

func TestLinkErrorsAreTyped(t *testing.T) {
	l, p := setUpLab(t)
	n, err := l.Add(p+"a", AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Link("eth9")
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Name != "eth9" || nf.In != p+"a" || !errors.Is(err, ErrNotFound) {
		t.Errorf("Link of a missing interface: %v", err)
	}
	if _, err := n.Bridge("br0", BridgeOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Bridge("br0", BridgeOptions{}); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "a link named br0 already exists in "+p+"a") {
		t.Errorf("a second bridge br0: %v", err)
	}
}

// TestDownUndoesACrashedRun leaves a lab as a kill -9 would (journal
// written, lock released, nothing torn down) and removes it with Down.
func TestDownUndoesACrashedRun(t *testing.T) {
	l, p := setUpLab(t)
	if _, err := l.Add(p+"a", AddOptions{}); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.closed = true // the process "died": its own Close does nothing now
	nss := l.allNetns()
	l.mu.Unlock()
	for _, n := range nss {
		n.release()
	}
	l.j.Close(false)
	labs, err := Labs()
	if err != nil || len(labs) != 1 || labs[0].State != "dead" || len(labs[0].Pins) != 1 || labs[0].Pins[0].Name != p+"a" {
		t.Fatalf("Labs after the crash = %+v, %v", labs, err)
	}
	if owners := Owners(); owners[labs[0].Pins[0].Inode] != p {
		t.Errorf("Owners = %v", owners)
	}
	var out strings.Builder
	if err := Down(p, &out, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "removed namespace "+p+"a") {
		t.Errorf("down said %q", out.String())
	}
	wantNoPins(t, p)
	if err := Down(p, io.Discard, false); !errors.Is(err, ErrNoLab) {
		t.Errorf("Down twice: %v, want ErrNoLab (harmless, and a typo is noticed)", err)
	}
}

// A crashed lab's namespace that someone else deleted may see its inode
// number reused by another namespace; down must not take that one's
// processes for the lab's.
func TestDownSparesANamespaceThatReusedAnInode(t *testing.T) {
	l, p := setUpLab(t)
	foreign := p + "f"
	if _, err := nsfs.Add(foreign, nsfs.AddHooks{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nsfs.Unpin(foreign) })
	sleeper := exec.Command("ip", "netns", "exec", foreign, "sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sleeper.Wait() }()
	t.Cleanup(func() { sleeper.Process.Kill(); <-exited })
	ino, err := nsfs.Inode(nsfs.PinPath(foreign))
	if err != nil {
		t.Fatal(err)
	}
	waitInNetns(t, sleeper.Process.Pid, ino)
	// The journal of a lab whose namespace p+"gone" was deleted behind its
	// back, and whose inode number the kernel then gave to foreign.
	e, err := l.j.Add(journal.Entry{Kind: journal.KindNetns, Name: p + "gone"})
	if err != nil {
		t.Fatal(err)
	}
	e.Inode = ino
	if err := l.j.Done(e); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.closed = true // the process "died"
	l.mu.Unlock()
	l.j.Close(false)
	var out strings.Builder
	if err := Down(p, &out, true); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("down ended a process of another namespace that has the lab's old inode number (%v); it said:\n%s", err, out.String())
	case <-time.After(300 * time.Millisecond):
	}
}

// waitInNetns waits until pid has entered the namespace of inode ino.
func waitInNetns(t *testing.T, pid int, ino uint64) {
	want := fmt.Sprintf("net:[%d]", ino)
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if got, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); got == want {
			return
		}
	}
	t.Fatalf("process %d never entered %s", pid, want)
}

// Teardown first makes the lab's bridges drop what they would forward (a
// big star's bridge floods its leaves' IPv6 chatter to every port while
// the leaves go), and the bridges' journal entries do not cut the run of
// namespaces in two.
func TestTeardownStopsTheBridgesForwardingFirst(t *testing.T) {
	l, p := setUpLab(t)
	hub, err := l.Add(p+"hub", AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	br, err := hub.Bridge("br0", BridgeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var leaves []*Netns
	for i, name := range []string{"a", "b"} {
		leaf, err := l.Add(p+name, AddOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, port, err := leaf.Veth("eth0", hub, "p"+name, VethOptions{Addr: []string{fmt.Sprintf("10.77.0.%d/24", i+1)}})
		if err != nil {
			t.Fatal(err)
		}
		if err := port.SetMaster(br); err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, leaf)
	}
	ping := func() int {
		res, err := leaves[0].Exec(context.Background(), &Cmd{Argv: []string{"ping", "-c1", "-W1", "10.77.0.2"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Code
	}
	if code := ping(); code != 0 {
		t.Fatalf("ping across the bridge before teardown: exit %d", code)
	}
	rest := (&undoer{log: io.Discard}).quiesceBridges(l.j.Live(), nil)
	if code := ping(); code == 0 {
		t.Error("the bridge still forwards after quiesceBridges")
	}
	pins := 0
	for _, e := range rest {
		if e.Kind == journal.KindBridge {
			t.Errorf("the bridge's entry %+v is still to be undone", e)
		}
		if isPin(e) {
			pins++
		}
	}
	if pins != 3 {
		t.Errorf("%d namespace entries left to undo, want 3", pins)
	}
}

package journal

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tempBase points BaseDir at a fresh directory for the test's length: the
// journal then needs no root and touches nothing of a real lab.
func tempBase(t *testing.T) string {
	t.Helper()
	old, oldState := BaseDir, StateDir
	BaseDir, StateDir = t.TempDir(), t.TempDir()
	t.Cleanup(func() { BaseDir, StateDir = old, oldState })
	return BaseDir
}

// start locks lab name and creates its journal.
func start(t *testing.T, name string) *Journal {
	t.Helper()
	lock, err := Lock(name)
	if err != nil {
		t.Fatal(err)
	}
	j, err := Create(name, lock, "/labs/"+name+".lua")
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func add(t *testing.T, j *Journal, e Entry) *Entry {
	t.Helper()
	got, err := j.Add(e)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRoundTrip(t *testing.T) {
	tempBase(t)
	j := start(t, "lab1")
	ns := add(t, j, Entry{Kind: KindNetns, Name: "a"})
	ns.Inode = 4026532000
	if err := j.Done(ns); err != nil {
		t.Fatal(err)
	}
	link := add(t, j, Entry{Kind: KindLink, Name: "v0", NsPath: "", NsIno: 1})
	proc := add(t, j, Entry{Kind: KindProc, Cmd: "sleep 1"})
	proc.PID, proc.Start = 42, 99
	j.Done(proc)
	j.Gone(link)
	j.Keep()

	st, err := Read("lab1")
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != os.Getpid() || st.Script != "/labs/lab1.lua" || !st.Kept {
		t.Errorf("header: pid %d script %q kept %v", st.PID, st.Script, st.Kept)
	}
	live := st.Live()
	if len(live) != 2 || live[0].Kind != KindProc || live[1].Kind != KindNetns {
		t.Fatalf("live entries, newest first: %+v", live)
	}
	if live[0].PID != 42 || live[0].Start != 99 || !live[0].Done {
		t.Errorf("proc identity lost: %+v", live[0])
	}
	if live[1].Inode != 4026532000 || live[1].Name != "a" {
		t.Errorf("netns identity lost: %+v", live[1])
	}
	if got := j.Live(); len(got) != 2 || got[0].Seq != 3 || got[1].Seq != 1 {
		t.Errorf("the running journal's live entries: %+v", got)
	}
	j.Close(false)
}

// journalWith writes raw journal text for lab name, as a crash leaves it.
func journalWith(t *testing.T, name, text string) {
	t.Helper()
	dir := Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "journal"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadAfterTornAndCorruptRecords(t *testing.T) {
	tempBase(t)
	journalWith(t, "crashed", strings.Join([]string{
		`{"op":"lab","owner_pid":77,"script":"x.lua"}`,
		`{"op":"add","seq":1,"kind":"netns","name":"a"}`,
		`{"op":"done","seq":1,"kind":"netns","name":"a","done":true,"inode":5}`,
		`{"op":"add","seq":2,"kind":"net`, // torn mid-record, then the run went on
		`not json at all`,
		`{"op":"add","seq":3,"kind":"proc","cmd":"dnsmasq"}`,
		`{"op":"done","seq":9,"kind":"proc","pid":1}`, // names no entry
		`{"op":"add","seq":4,"kind":"link","name":"v0","ns":"/run/netns/b","ns_ino":6}`,
		`{"op":"done","seq":4,"kind":"link","name":"v0","ns":"/run/netns/b","ns_ino":6,"done":true,"ind`, // truncated last line
	}, "\n"))
	st, err := Read("crashed")
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != 77 || st.Script != "x.lua" || st.Kept {
		t.Errorf("header: %+v", st)
	}
	var got []string
	for _, e := range st.Live() {
		got = append(got, string(e.Kind)+":"+e.Name)
	}
	if want := []string{"link:v0", "proc:", "netns:a"}; !slices.Equal(got, want) {
		t.Fatalf("live = %v, want %v", got, want)
	}
	link := st.Live()[0]
	if link.Done || link.Index != 0 || link.NsPath != "/run/netns/b" {
		t.Errorf("a link whose done record was cut off must stay intended, not done: %+v", link)
	}
	if ns := st.Live()[2]; !ns.Done || ns.Inode != 5 {
		t.Errorf("netns: %+v", ns)
	}
}

func TestReadKeepsUnknownKindsAndSkipsUnknownOps(t *testing.T) {
	tempBase(t)
	journalWith(t, "future", strings.Join([]string{
		`{"op":"lab","owner_pid":1}`,
		`{"op":"add","seq":1,"kind":"vxlan","name":"vx0"}`,
		`{"op":"rename","seq":1,"name":"other"}`,
		`{"op":"gone","seq":1}`,
		`{"op":"add","seq":2,"kind":"qdisc","name":"eth0"}`,
		``,
	}, "\n"))
	st, err := Read("future")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Entries) != 2 || st.Entries[0].Name != "vx0" || !st.Entries[0].Gone {
		t.Fatalf("entries: %+v", st.Entries)
	}
	if live := st.Live(); len(live) != 1 || live[0].Kind != "qdisc" {
		t.Fatalf("live: %+v", live)
	}
}

func TestReadMissingJournal(t *testing.T) {
	tempBase(t)
	if _, err := Read("none"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Read of a lab without a journal: %v, want ErrNotExist", err)
	}
}

func TestLockIsExclusiveAndNamesTheHolder(t *testing.T) {
	tempBase(t)
	j := start(t, "busy")
	_, err := Lock("busy")
	var busy *ErrBusy
	if !errors.As(err, &busy) || busy.PID != os.Getpid() || busy.Lab != "busy" {
		t.Fatalf("second Lock: %v", err)
	}
	if !strings.Contains(err.Error(), "in use by pid") {
		t.Errorf("message: %v", err)
	}
	if pid, held := Holder("busy"); !held || pid != os.Getpid() {
		t.Errorf("Holder = %d, %v; want this process", pid, held)
	}
	if err := j.Close(true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(Dir("busy")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close(true) left %s: %v", Dir("busy"), err)
	}
	if _, held := Holder("busy"); held {
		t.Error("a closed lab still has a holder")
	}
}

func TestCloseWithoutRemoveLeavesTheJournal(t *testing.T) {
	tempBase(t)
	j := start(t, "kept")
	add(t, j, Entry{Kind: KindPin, Name: "p"})
	j.Close(false)
	st, err := Read("kept")
	if err != nil || len(st.Live()) != 1 {
		t.Fatalf("journal after Close(false): %+v, %v", st, err)
	}
	lock, err := Lock("kept") // free again
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := RemoveDir("kept"); err != nil {
		t.Fatal(err)
	}
	if err := RemoveDir("kept"); err != nil {
		t.Errorf("RemoveDir twice: %v", err)
	}
}

func TestLabsListsDirectoriesOnly(t *testing.T) {
	base := tempBase(t)
	for _, d := range []string{"b", "a", ".hidden"} {
		os.Mkdir(filepath.Join(base, d), 0o755)
	}
	os.WriteFile(filepath.Join(base, "file"), nil, 0o644)
	names, err := Labs()
	if err != nil || !slices.Equal(names, []string{"a", "b"}) {
		t.Fatalf("Labs = %v, %v", names, err)
	}
	BaseDir = filepath.Join(base, "missing")
	if names, err := Labs(); err != nil || len(names) != 0 {
		t.Fatalf("Labs without a base directory = %v, %v", names, err)
	}
}

func TestValidateLabName(t *testing.T) {
	for _, bad := range []string{"", ".", "..", ".x", "a/b", "a\x00b", strings.Repeat("x", 201)} {
		if ValidateLabName(bad) == nil {
			t.Errorf("lab name %q accepted", bad)
		}
		if _, err := Lock(bad); err == nil {
			t.Errorf("Lock(%q) accepted", bad)
		}
	}
	for _, good := range []string{"lab1", "x.y", "a b", strings.Repeat("x", 200)} {
		if err := ValidateLabName(good); err != nil {
			t.Errorf("lab name %q refused: %v", good, err)
		}
	}
}

func TestLockWithoutPermissionNamesRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write anywhere: nothing to refuse")
	}
	base := tempBase(t)
	if err := os.Chmod(base, 0o555); err != nil {
		t.Fatal(err)
	}
	BaseDir = filepath.Join(base, "nslua")
	_, err := Lock("x")
	if err == nil || !strings.Contains(err.Error(), "must run as root") {
		t.Fatalf("Lock where the state cannot be written: %v", err)
	}
}

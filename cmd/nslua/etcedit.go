package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/etcfs"
	"github.com/nslua/nslua/internal/etctree"
)

// etcCopy copies each PATH; one that fails does not stop the others, and
// the exit status is 1 if any failed.
func etcCopy(a etcArgs) error {
	failed := 0
	for _, path := range a.paths {
		lines, err := copyOne(a, path)
		for _, l := range lines {
			fmt.Println(l)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "nslua: etc %s copy %s: %v\n", a.name, path, err)
			failed++
		}
	}
	if failed > 0 {
		return &exitError{code: 1}
	}
	return nil
}

func copyOne(a etcArgs, path string) ([]string, error) {
	rel, err := etctree.CleanPath(path)
	if err != nil {
		return nil, err
	}
	if err := etctree.CheckDest(a.name, rel); err != nil {
		return nil, err
	}
	plan, err := etctree.PlanCopy(rel, a.follow)
	var did []string
	if errors.Is(err, etctree.ErrHostMissing) {
		if !a.createHost {
			return nil, hostMissing(a.name, rel, strings.HasSuffix(path, "/"))
		}
		made, cerr := etctree.CreateHostTarget(rel, strings.HasSuffix(path, "/"))
		if cerr != nil {
			return nil, cerr
		}
		did = append(did, fmt.Sprintf("made the host's %s, empty, for ip netns exec to bind %s over", made, filepath.Join(etcfs.Root, a.name, rel)))
		if _, _, found, _ := etctree.ReadFile(a.name, rel); found {
			return append(did, fmt.Sprintf("kept %s as it is", filepath.Join(etcfs.Root, a.name, rel))), nil
		}
		plan, err = etctree.PlanCopy(rel, false)
	}
	if err != nil {
		return did, err
	}
	lines, err := etctree.Apply(a.name, plan, etctree.Plain{}, a.force)
	return append(did, lines...), err
}

// hostMissing is the answer to the question nslua was born from: ip
// binds only over /etc paths that exist, and creates none.
func hostMissing(name, rel string, dir bool) error {
	kind := "file"
	if dir {
		kind = "directory"
	}
	return fmt.Errorf("the host has no /etc/%s: nothing to copy. And `ip netns exec %s` would not bind %s over it: "+
		"ip binds only over /etc paths that exist (it warns \"Bind ... failed\" and the program reads the host's defaults); "+
		"nslua exec and n:exec bind it anyway. `nslua etc %s copy %s --create-host-target` makes an empty host %s /etc/%s "+
		"(and an empty %s if there is none) so that ip netns exec binds it",
		rel, name, filepath.Join(etcfs.Root, name, rel), name, rel, kind, rel, filepath.Join(etcfs.Root, name, rel))
}

func etcRm(name string, paths []string) error {
	failed := 0
	for _, path := range paths {
		lines, err := etctree.Remove(name, path)
		for _, l := range lines {
			fmt.Println(l)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "nslua: etc %s rm %s: %v\n", name, path, err)
			failed++
		}
	}
	if failed > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// etcEdit opens $EDITOR (default vi) on a private copy of the namespace's
// file (the host's, or an empty one, when it has none) and writes the
// result back, in place, through etcfs.
func etcEdit(name, path string) error {
	rel, err := etctree.CleanPath(path)
	if err != nil {
		return &exitError{code: 2, msg: "etc " + name + " edit: " + err.Error()}
	}
	fail := func(err error) error {
		return &exitError{code: 1, msg: fmt.Sprintf("etc %s edit %s: %v", name, rel, err)}
	}
	old, item, found, err := editSource(name, rel)
	if err != nil {
		return fail(err)
	}
	tmp, err := os.CreateTemp("", "nslua-etc-*-"+filepath.Base(rel))
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(old)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = runEditor(tmp.Name())
	}
	var data []byte
	if err == nil {
		data, err = os.ReadFile(tmp.Name())
	}
	if err != nil {
		return fail(err)
	}
	if found && bytes.Equal(data, old) {
		fmt.Printf("%s unchanged\n", filepath.Join(etcfs.Root, name, rel))
		return nil
	}
	item.Data = data
	if err := writeBack(name, rel, item, found); err != nil {
		return fail(err)
	}
	fmt.Printf("wrote %s\n", filepath.Join(etcfs.Root, name, rel))
	if _, err := os.Lstat(filepath.Join(etctree.HostEtc, rel)); err != nil {
		fmt.Fprintf(os.Stderr, "nslua: note: %v\n", hostMissing(name, rel, false))
	}
	return nil
}

// editSource is what the editor starts from: the namespace's file, else
// the host's, else nothing (mode 0644, root's).
func editSource(name, rel string) ([]byte, etctree.Item, bool, error) {
	item := etctree.Item{Rel: rel, Perm: 0o644, UID: 0, GID: 0}
	data, e, found, err := etctree.ReadFile(name, rel)
	if err != nil || found {
		fmt.Sscanf(e.Mode, "%o", &item.Perm)
		item.UID, item.GID = e.UID, e.GID
		return data, item, found, err
	}
	plan, err := etctree.PlanCopy(rel, false)
	if errors.Is(err, etctree.ErrHostMissing) {
		return nil, item, false, nil
	}
	if err != nil {
		return nil, item, false, err
	}
	if len(plan.Items) != 1 || plan.Items[0].Dir {
		return nil, item, false, fmt.Errorf("the host's /etc/%s is a directory: edit one of its files", rel)
	}
	return plan.Items[0].Data, plan.Items[0], false, nil
}

func runEditor(file string) error {
	editor := os.Getenv("EDITOR")
	if editor == "" {
		editor = "vi"
	}
	// EDITOR may hold arguments ("code -w"), as shells and git take it.
	cmd := exec.Command("sh", "-c", editor+` "$1"`, "sh", file)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("editor %q: %v (nothing written)", editor, err)
	}
	return nil
}

// writeBack writes the edited content: in place over the namespace's file
// (programs that have it bound see it), or as a new file.
func writeBack(name, rel string, item etctree.Item, found bool) error {
	plan := &etctree.Plan{Path: rel, Items: []etctree.Item{item}}
	_, err := etctree.Apply(name, plan, etctree.Plain{}, found)
	return err
}

// etcDiff shows each file of /etc/netns/NAME (or the PATHs) against the
// host's, with `diff -u` (GNU diffutils, on every Debian system); exit
// status 1 when any differs, as diff's.
func etcDiff(name string, paths []string) error {
	l, err := etcListing(name)
	if err != nil {
		return &exitError{code: 1, msg: "etc " + name + " diff: " + err.Error()}
	}
	differ := false
	for _, e := range l.Entries {
		if !wanted(e.Path, paths) {
			continue
		}
		d, err := diffEntry(name, e)
		if err != nil {
			return &exitError{code: 1, msg: fmt.Sprintf("etc %s diff %s: %v", name, e.Path, err)}
		}
		differ = differ || d
	}
	if differ {
		return &exitError{code: 1}
	}
	return nil
}

func wanted(path string, paths []string) bool {
	if len(paths) == 0 {
		return true
	}
	for _, p := range paths {
		p = strings.TrimRight(strings.TrimPrefix(p, "/etc/"), "/")
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func diffEntry(name string, e etctree.Entry) (bool, error) {
	switch e.Kind {
	case "dir":
		return hostOnly(name, e), nil
	case "file":
	default:
		fmt.Printf("%s/%s/%s: %s, not compared\n", etcfs.Root, name, e.Path, entryType(e))
		return true, nil
	}
	data, _, _, err := etctree.ReadFile(name, e.Path)
	if err != nil {
		return false, err
	}
	host, hostLabel := e.Covers, e.Covers
	if !e.HostExists {
		host, hostLabel = "/dev/null", e.Covers+" (missing on the host)"
	}
	cmd := exec.Command("diff", "-u", "--label", hostLabel, "--label", filepath.Join(etcfs.Root, name, e.Path), host, "-")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(data), os.Stdout, os.Stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("diff: %v", err)
	}
	return false, nil
}

// hostOnly names the host's files that a directory entry hides: bound,
// it replaces the host's directory, it is not merged with it.
func hostOnly(name string, e etctree.Entry) bool {
	host, err := os.ReadDir(e.Covers)
	if err != nil {
		return false
	}
	parent, err := etcfs.OpenDir(filepath.Join(name, e.Path))
	if err != nil {
		return false
	}
	defer unix.Close(parent)
	have := map[string]bool{}
	names, _ := etcfs.Names(parent)
	for _, n := range names {
		have[n] = true
	}
	differ := false
	for _, h := range host {
		if !have[h.Name()] {
			fmt.Printf("only on the host: %s (hidden in the namespace: %s/%s/%s/ replaces the host's directory)\n", filepath.Join(e.Covers, h.Name()), etcfs.Root, name, e.Path)
			differ = true
		}
	}
	return differ
}

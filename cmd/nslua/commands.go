package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/nslua/nslua/internal/inspect"
	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/lab"
	"github.com/nslua/nslua/internal/nsexec"
	"github.com/nslua/nslua/internal/nsfs"
	"github.com/nslua/nslua/internal/sys"
)

// cmdExec is a drop-in for `ip netns exec NAME CMD...`: this process
// becomes CMD inside the namespace, so its exit status, signals and stdio
// are CMD's own.
func cmdExec(args []string) error {
	name, argv, err := parseExecArgs(args)
	if err != nil {
		return err
	}
	inode, err := nsfs.Open(name)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("exec %q: %v", name, err)}
	}
	priv, err := lab.PrivateOf(name, inode)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("exec %q: %v", name, sys.NeedRoot(err))}
	}
	code, err := nsexec.ExecInPlace(nsfs.PinPath(name), name, priv, argv)
	return &exitError{code: code, msg: fmt.Sprintf("exec %q: %v", name, sys.NeedRoot(err))}
}

func ownerOpts() inspect.Options {
	owners := lab.Owners()
	return inspect.Options{Owner: func(ino uint64) string { return owners[ino] },
		Private: inspect.PrivateFrom(lab.Privates)}
}

func cmdInspect(args []string) error {
	names, asJSON, err := parseInspectArgs(args)
	if err != nil {
		return err
	}
	infos, err := inspectNames(names)
	if err != nil {
		return &exitError{code: 1, msg: sys.NeedRoot(err).Error()}
	}
	if len(names) == 0 {
		infos = append(infos, otherHostsInfos(os.Stderr)...)
	}
	if asJSON {
		return inspect.WriteJSON(os.Stdout, infos)
	}
	return inspect.WriteText(os.Stdout, infos)
}

func inspectNames(names []string) ([]*inspect.Info, error) {
	opts := ownerOpts()
	if len(names) == 0 {
		return inspect.All(opts)
	}
	var infos []*inspect.Info
	for _, name := range names {
		if isPath(name) {
			info, err := inspectPath(name, opts)
			if err != nil {
				return nil, err
			}
			infos = append(infos, info)
			continue
		}
		if err := nsfs.ValidateName(name); err != nil {
			return nil, fmt.Errorf("inspect %q: %v", name, err)
		}
		info, err := inspect.Namespace(name, nsfs.PinPath(name), opts)
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	return infos, nil
}

func cmdGraph(args []string) error {
	labName, format, outFile, err := parseGraphArgs(args)
	if err != nil {
		return err
	}
	infos, host, err := graphInfos(labName)
	if err != nil {
		return err
	}
	return writeGraph(format, outFile, labName, infos, host)
}

// graphInfos are LAB's namespaces, or without a lab every pinned
// namespace and the host.
func graphInfos(labName string) ([]*inspect.Info, *inspect.Info, error) {
	opts := ownerOpts()
	infos, err := inspect.All(opts)
	if err != nil {
		return nil, nil, &exitError{code: 1, msg: "graph: " + sys.NeedRoot(err).Error()}
	}
	infos = append(infos, otherHostsInfos(os.Stderr)...)
	var host *inspect.Info
	if labName == "" {
		if host, err = inspect.Host(opts); err != nil {
			return nil, nil, &exitError{code: 1, msg: "graph: " + sys.NeedRoot(err).Error()}
		}
	} else {
		infos = labOnly(infos, labName)
		if len(infos) == 0 {
			return nil, nil, &exitError{code: 1, msg: fmt.Sprintf("graph: lab %q has no namespaces (is it up? `nslua ls` lists labs)", labName)}
		}
	}
	return infos, host, nil
}

func labOnly(infos []*inspect.Info, labName string) []*inspect.Info {
	var out []*inspect.Info
	for _, info := range infos {
		if info.Lab == labName {
			out = append(out, info)
		}
	}
	return out
}

// labSummary is one lab in `nslua ls`.
type labSummary struct {
	Name       string   `json:"name"`
	PID        int      `json:"pid"`
	State      string   `json:"state"` // running, kept, dead
	Script     string   `json:"script,omitempty"`
	Namespaces []string `json:"namespaces"`
}

func cmdLs(args []string) error {
	asJSON, err := parseLsArgs(args)
	if err != nil {
		return err
	}
	labs, free, err := listLabs()
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	return printLs(labs, free, asJSON)
}

func printLs(labs []labSummary, free []string, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"labs": labs, "namespaces": free})
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "LAB\tSTATE\tPID\tNAMESPACES")
	for _, s := range labs {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", s.Name, s.State, s.PID, strings.Join(s.Namespaces, " "))
	}
	if len(free) > 0 {
		fmt.Fprintf(w, "(no lab)\t\t\t%s\n", strings.Join(free, " "))
	}
	return w.Flush()
}

// listLabs reads every journal; free lists pinned namespaces no lab owns.
func listLabs() ([]labSummary, []string, error) {
	all, err := lab.Labs()
	if err != nil {
		return nil, nil, err
	}
	owned := map[string]bool{}
	labs := []labSummary{}
	for _, l := range all {
		s := labSummary{Name: l.Name, PID: l.PID, Script: l.Script, State: l.State, Namespaces: []string{}}
		for _, p := range l.Pins {
			s.Namespaces = append(s.Namespaces, p.Name)
			owned[p.Name] = true
		}
		labs = append(labs, s)
	}
	pinned, err := nsfs.List()
	if err != nil {
		return nil, nil, err
	}
	free := []string{}
	for _, p := range pinned {
		if !owned[p] {
			free = append(free, p)
		}
	}
	return labs, free, nil
}

// cmdDown removes kept or crashed labs. It ignores SIGPIPE, so that
// `nslua down LAB | head -1` finishes the removal: a write to a closed
// pipe fails, and nothing it prints matters to the undo.
func cmdDown(args []string) error {
	signal.Ignore(syscall.SIGPIPE)
	names, all, verbose, err := parseDownArgs(args)
	if err != nil {
		return err
	}
	if all {
		if names, err = journal.Labs(); err != nil {
			return &exitError{code: 1, msg: err.Error()}
		}
		if len(names) == 0 {
			fmt.Println("no labs")
		}
	}
	failed := false
	for _, name := range names {
		if pid, held := journal.Holder(name); held && all {
			fmt.Printf("lab %s: running (pid %d), left alone; it tears itself down when it ends\n", name, pid)
			continue
		}
		if err := lab.Down(name, os.Stdout, verbose); err != nil {
			fmt.Fprintf(os.Stderr, "nslua: down %s: %v\n", name, err)
			failed = true
		}
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

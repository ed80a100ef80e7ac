package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/nslua/nslua/internal/inspect"
	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/lab"
	"github.com/nslua/nslua/internal/nsexec"
	"github.com/nslua/nslua/internal/nsfs"
)

// cmdExec is a drop-in for `ip netns exec NAME CMD...`: this process
// becomes CMD inside the namespace, so its exit status, signals and stdio
// are CMD's own.
func cmdExec(args []string) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) < 2 {
		return usageErr("exec needs a namespace and a command: nslua exec NAME -- CMD [ARGS...]")
	}
	name, argv := args[0], args[1:]
	if argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 || argv[0] == "" {
		return usageErr("exec %s: no command given", name)
	}
	if _, err := nsfs.Open(name); err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("exec %q: %v", name, err)}
	}
	code, err := nsexec.ExecInPlace(nsfs.PinPath(name), name, argv)
	return &exitError{code: code, msg: fmt.Sprintf("exec %q: %v", name, nsfs.NeedRoot(err))}
}

func ownerOpts() inspect.Options {
	owners := lab.Owners()
	return inspect.Options{Owner: func(ino uint64) string { return owners[ino] }}
}

func cmdInspect(args []string) error {
	asJSON := false
	var names []string
	for _, a := range args {
		switch {
		case a == "--json":
			asJSON = true
		case strings.HasPrefix(a, "-"):
			return usageErr("inspect: unknown option %s", a)
		default:
			names = append(names, a)
		}
	}
	infos, err := inspectNames(names)
	if err != nil {
		return &exitError{code: 1, msg: nsfs.NeedRoot(err).Error()}
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
	format, labName, outFile := "dot", "", ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--format" && i+1 < len(args):
			format = args[i+1]
			i++
		case strings.HasPrefix(a, "--format="):
			format = strings.TrimPrefix(a, "--format=")
		case a == "-o" && i+1 < len(args):
			outFile = args[i+1]
			i++
		case strings.HasPrefix(a, "-"):
			return usageErr("graph: unknown option %s", a)
		case labName == "":
			labName = a
		default:
			return usageErr("graph takes at most one lab")
		}
	}
	if !graphFormats[format] {
		return usageErr("graph: --format must be dot, mermaid, svg, png or html, not %q", format)
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
		return nil, nil, &exitError{code: 1, msg: err.Error()}
	}
	var host *inspect.Info
	if labName == "" {
		if host, err = inspect.Host(opts); err != nil {
			return nil, nil, &exitError{code: 1, msg: err.Error()}
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
	asJSON := false
	for _, a := range args {
		if a != "--json" {
			return usageErr("ls: unknown argument %s", a)
		}
		asJSON = true
	}
	labs, free, err := listLabs()
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
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
	names, err := journal.Labs()
	if err != nil {
		return nil, nil, err
	}
	owned := map[string]bool{}
	labs := []labSummary{}
	for _, name := range names {
		st, err := journal.Read(name)
		if err != nil {
			continue
		}
		s := labSummary{Name: name, PID: st.PID, Script: st.Script, State: labState(name, st), Namespaces: []string{}}
		for _, e := range st.Live() {
			if e.Kind == journal.KindNetns || e.Kind == journal.KindPin {
				s.Namespaces = append(s.Namespaces, e.Name)
				owned[e.Name] = true
			}
		}
		sort.Strings(s.Namespaces)
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

func labState(name string, st *journal.State) string {
	if _, held := journal.Holder(name); held {
		return "running"
	}
	if st.Kept {
		return "kept"
	}
	return "dead" // its run ended without teardown: `nslua down` cleans up
}

func cmdDown(args []string) error {
	if len(args) != 1 {
		return usageErr("down needs a lab name or --all")
	}
	names := []string{args[0]}
	if args[0] == "--all" {
		var err error
		if names, err = journal.Labs(); err != nil {
			return &exitError{code: 1, msg: err.Error()}
		}
		if len(names) == 0 {
			fmt.Println("no labs")
		}
	} else if strings.HasPrefix(args[0], "-") {
		return usageErr("down: unknown option %s", args[0])
	}
	var failed []string
	for _, name := range names {
		if pid, held := journal.Holder(name); held && args[0] == "--all" {
			fmt.Printf("lab %s: running (pid %d), left alone; it tears itself down when it ends\n", name, pid)
			continue
		}
		if err := lab.Down(name, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "nslua: down %s: %v\n", name, err)
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		return &exitError{code: 1}
	}
	return nil
}

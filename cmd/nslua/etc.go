package main

// `nslua etc NAME [copy|edit|diff|rm ...]`: what a program in namespace
// NAME sees in /etc, and the means to change it, for people who work with
// `ip netns` by hand. Outside any lab: the files it makes are the user's,
// as with ip or cp, and no teardown removes them.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/nslua/nslua/internal/etctree"
	"github.com/nslua/nslua/internal/nsfs"
	"github.com/nslua/nslua/internal/sys"
)

// etcArgs is a parsed `nslua etc` command line.
type etcArgs struct {
	name, verb string
	paths      []string
	asJSON     bool
	follow     bool
	force      bool
	createHost bool
}

// parseEtcArgs reads `etc NAME [--json]` and `etc NAME VERB PATH... [flags]`.
func parseEtcArgs(args []string) (etcArgs, error) {
	var a etcArgs
	var rest []string
	for _, s := range args {
		switch s {
		case "--json":
			a.asJSON = true
		case "--follow":
			a.follow = true
		case "--force":
			a.force = true
		case "--create-host-target":
			a.createHost = true
		default:
			if strings.HasPrefix(s, "-") {
				return a, usageErr("etc: unknown option %s", s)
			}
			rest = append(rest, s)
		}
	}
	if len(rest) == 0 {
		return a, usageErr("etc needs a namespace: nslua etc NAME [copy|edit|diff|rm PATH...]")
	}
	a.name, rest = rest[0], rest[1:]
	if len(rest) > 0 {
		a.verb, a.paths = rest[0], rest[1:]
	}
	return a, a.check()
}

func (a etcArgs) check() error {
	need := map[string]string{"": "", "copy": "PATH...", "rm": "PATH...", "edit": "PATH", "diff": ""}
	what, ok := need[a.verb]
	switch {
	case !ok:
		return usageErr("etc %s: unknown command %q (copy, edit, diff or rm)", a.name, a.verb)
	case what != "" && len(a.paths) == 0:
		return usageErr("etc %s %s needs %s", a.name, a.verb, what)
	case a.verb == "edit" && len(a.paths) != 1:
		return usageErr("etc %s edit takes one PATH", a.name)
	case a.verb == "" && len(a.paths) > 0:
		return usageErr("etc %s: unexpected %s", a.name, a.paths[0])
	case (a.follow || a.createHost) && a.verb != "copy", a.force && a.verb != "copy":
		return usageErr("etc: --follow, --force and --create-host-target go with copy")
	case a.asJSON && a.verb != "":
		return usageErr("etc: --json goes with the listing (nslua etc NAME --json)")
	}
	return nil
}

func cmdEtc(args []string) error {
	a, err := parseEtcArgs(args)
	if err != nil {
		return err
	}
	if err := nsfs.ValidateName(a.name); err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("etc %q: %v", a.name, err)}
	}
	switch a.verb {
	case "copy":
		return etcCopy(a)
	case "edit":
		return etcEdit(a.name, a.paths[0])
	case "diff":
		return etcDiff(a.name, a.paths)
	case "rm":
		return etcRm(a.name, a.paths)
	}
	l, err := etcListing(a.name)
	if err != nil {
		return &exitError{code: 1, msg: "etc " + a.name + ": " + sys.NeedRoot(err).Error()}
	}
	if a.asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(l)
	}
	writeEtcListing(os.Stdout, l)
	return nil
}

// etcListing lists /etc/netns/NAME with the processes of namespace NAME,
// if one is pinned.
func etcListing(name string) (*etctree.Listing, error) {
	var pids []int
	ino, err := nsfs.CheckNetns(nsfs.PinPath(name))
	if err == nil {
		byNs, err := sys.PidsByNetns()
		if err != nil {
			return nil, err
		}
		pids = byNs[ino]
	}
	l, lerr := etctree.List(name, pids)
	if lerr != nil {
		return nil, lerr
	}
	l.Pinned = err == nil
	return l, nil
}

func writeEtcListing(out io.Writer, l *etctree.Listing) {
	state := "no namespace of this name is pinned in /run/netns"
	if l.Pinned {
		state = fmt.Sprintf("namespace %s: %d processes", l.Namespace, l.Procs)
	}
	fmt.Fprintf(out, "%s (%s)\n", l.Dir, state)
	if l.Note != "" {
		fmt.Fprintf(out, "  %s\n", l.Note)
	}
	if len(l.Entries) == 0 {
		if l.Exists {
			fmt.Fprintln(out, "  empty: programs in it see the host's /etc")
		} else {
			fmt.Fprintf(out, "  does not exist: programs in %s see the host's /etc (nslua etc %s copy PATH makes one)\n", l.Namespace, l.Namespace)
		}
		return
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ENTRY\tCOVERS\tTYPE\tIP NETNS EXEC\tNSLUA EXEC, n:exec\tUSED BY")
	for _, e := range l.Entries {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", entryName(e), e.Covers, entryType(e), ipColumn(e), nsluaColumn(e), usedBy(e))
	}
	w.Flush()
	writeEtcNotes(out, l)
}

func entryName(e etctree.Entry) string {
	if e.Kind == "dir" {
		return e.Path + "/"
	}
	return e.Path
}

func entryType(e etctree.Entry) string {
	switch e.Kind {
	case "symlink":
		return "symlink -> " + e.Target
	case "file":
		s := fmt.Sprintf("file %s %d:%d", e.Mode, e.UID, e.GID)
		if e.Links > 1 {
			s += fmt.Sprintf(", %d hard links", e.Links)
		}
		return s
	}
	return fmt.Sprintf("%s %s %d:%d", e.Kind, e.Mode, e.UID, e.GID)
}

func isTop(e etctree.Entry) bool { return !strings.Contains(e.Path, "/") }

func ipColumn(e etctree.Entry) string {
	switch {
	case !isTop(e) && e.IPBinds:
		return "with its directory"
	case !isTop(e):
		return "no (its directory is not bound)"
	case !e.HostExists:
		return "NOT BOUND: no " + e.Covers + " on the host"
	case e.Kind == "symlink":
		return "binds what it points to"
	}
	return "binds"
}

func nsluaColumn(e etctree.Entry) string {
	switch {
	case e.Refused != "" && isTop(e):
		return "REFUSED: " + e.Refused
	case e.Refused != "":
		return "refused (" + e.Refused + ")"
	case !e.NsluaBinds:
		return "no (its directory is refused)"
	case !isTop(e):
		return "with its directory"
	case !e.HostExists:
		return "binds (over an empty mount point)"
	}
	return "binds"
}

func usedBy(e etctree.Entry) string {
	var parts []string
	for _, p := range e.SeenBy {
		parts = append(parts, fmt.Sprintf("%s[%d] (bound at %s)", p.Comm, p.PID, e.Covers))
	}
	for _, p := range e.OpenBy {
		parts = append(parts, fmt.Sprintf("%s[%d] (open, fd %d)", p.Comm, p.PID, p.FD))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// writeEtcNotes explains, under the table, what the user can do about
// entries that do not work as they might think.
func writeEtcNotes(out io.Writer, l *etctree.Listing) {
	for _, e := range l.Entries {
		if !isTop(e) {
			continue
		}
		if e.Refused != "" {
			fmt.Fprintf(out, "note: %s/%s is refused: nslua exec and n:exec fail in %s until it goes (nslua etc %s rm %s)\n", l.Dir, e.Path, l.Namespace, l.Namespace, e.Path)
		} else if !e.HostExists {
			fmt.Fprintf(out, "note: ip netns exec binds %s/%s only over an existing %s (it warns \"Bind ... failed\" and the program reads the host's defaults); nslua etc %s copy %s --create-host-target makes an empty one on the host\n",
				l.Dir, e.Path, e.Covers, l.Namespace, e.Path)
		}
	}
}

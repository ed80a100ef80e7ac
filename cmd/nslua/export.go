package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nslua/nslua/internal/export"
	"github.com/nslua/nslua/internal/inspect"
	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsexec"
	"github.com/nslua/nslua/internal/nsfs"
	"github.com/nslua/nslua/internal/sys"
)

// cmdExport prints a Lua script that rebuilds namespaces as they are now.
func cmdExport(args []string) error {
	out, names, err := exportArgs(args)
	if err != nil {
		return err
	}
	infos, source, err := exportTargets(names)
	if err != nil {
		return &exitError{code: 1, msg: sys.NeedRoot(err).Error()}
	}
	host, err := inspect.Host(ownerOpts())
	if err != nil {
		return &exitError{code: 1, msg: sys.NeedRoot(err).Error()}
	}
	in := export.Input{Infos: infos, Host: host, Source: source,
		Etc: map[string][]export.EtcFile{}, Skipped: map[string][]string{}}
	for _, info := range infos {
		dir := filepath.Join(nsexec.EtcRoot, info.Name)
		if in.Etc[info.Name], in.Skipped[info.Name], err = export.ReadEtc(dir); err != nil {
			return &exitError{code: 1, msg: "export: " + err.Error()}
		}
	}
	var buf bytes.Buffer
	if err := export.Lua(&buf, in); err != nil {
		return &exitError{code: 1, msg: "export: " + err.Error()}
	}
	if out == "" || out == "-" {
		_, err = os.Stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return &exitError{code: 1, msg: "export: " + err.Error()}
	}
	return nil
}

func exportArgs(args []string) (out string, names []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" && i+1 < len(args):
			out = args[i+1]
			i++
		case strings.HasPrefix(a, "-"):
			return "", nil, usageErr("export: unknown option %s (usage: nslua export [LAB | NAME...] [-o FILE])", a)
		default:
			if err := nsfs.ValidateName(a); err != nil {
				return "", nil, usageErr("export %q: %v", a, err)
			}
			names = append(names, a)
		}
	}
	return out, names, nil
}

// exportTargets: no names is every pinned namespace; one name that is a
// lab is that lab's namespaces; otherwise the names are namespaces.
func exportTargets(names []string) ([]*inspect.Info, string, error) {
	if len(names) == 1 {
		if _, err := journal.Read(names[0]); err == nil {
			all, err := inspect.All(ownerOpts())
			if err != nil {
				return nil, "", err
			}
			infos := labOnly(all, names[0])
			if len(infos) == 0 {
				return nil, "", fmt.Errorf("export: lab %q has no namespaces up", names[0])
			}
			return infos, "lab " + names[0], nil
		}
	}
	if len(names) == 0 {
		infos, err := inspect.All(ownerOpts())
		if err == nil && len(infos) == 0 {
			err = fmt.Errorf("export: no namespaces are pinned in %s", nsfs.RunDir)
		}
		return infos, "every pinned namespace", err
	}
	infos, err := inspectNames(names)
	return infos, "namespaces " + strings.Join(names, ", "), err
}

package main

import "strings"

// The argument parsers of the subcommands: pure functions, so that every
// flag is tested without root (args_test.go). Each returns a usage error
// (exit status 2) for what it cannot take.

// parseExecArgs reads `exec NAME [--] CMD [ARGS...]` (a leading "--" is
// taken too, as `ip netns exec` users type it).
func parseExecArgs(args []string) (name string, argv []string, err error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) < 2 {
		return "", nil, usageErr("exec needs a namespace and a command: nslua exec NAME -- CMD [ARGS...]")
	}
	name, argv = args[0], args[1:]
	if argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 || argv[0] == "" {
		return "", nil, usageErr("exec %s: no command given", name)
	}
	return name, argv, nil
}

// parseInspectArgs reads `inspect [NAME...] [--json]`.
func parseInspectArgs(args []string) (names []string, asJSON bool, err error) {
	for _, a := range args {
		switch {
		case a == "--json":
			asJSON = true
		case strings.HasPrefix(a, "-"):
			return nil, false, usageErr("inspect: unknown option %s", a)
		default:
			names = append(names, a)
		}
	}
	return names, asJSON, nil
}

// parseGraphArgs reads `graph [LAB] [--format dot|mermaid]`.
func parseGraphArgs(args []string) (labName, format, outFile string, err error) {
	format = "dot"
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
			return "", "", "", usageErr("graph: unknown option %s", a)
		case labName == "":
			labName = a
		default:
			return "", "", "", usageErr("graph takes at most one lab")
		}
	}
	if !graphFormats[format] {
		return "", "", "", usageErr("graph: --format must be dot, mermaid, svg, png or html, not %q", format)
	}
	return labName, format, outFile, nil
}

// parseLsArgs reads `ls [--json]`.
func parseLsArgs(args []string) (asJSON bool, err error) {
	for _, a := range args {
		if a != "--json" {
			return false, usageErr("ls: unknown argument %s", a)
		}
		asJSON = true
	}
	return asJSON, nil
}

// parseDownArgs reads `down LAB` or `down --all`.
func parseDownArgs(args []string) (names []string, all, verbose bool, err error) {
	for i, a := range args {
		switch {
		case a == "--":
			names = append(names, args[i+1:]...)
		case a == "-v" || a == "--verbose":
			verbose = true
			continue
		case a == "--all":
			all = true
			continue
		case strings.HasPrefix(a, "-"):
			return nil, false, false, usageErr("down: unknown option %s", a)
		default:
			names = append(names, a)
			continue
		}
		break
	}
	if all == (len(names) > 0) {
		return nil, false, false, usageErr("down needs lab names or --all")
	}
	return names, all, verbose, nil
}

// parseNoArgs refuses any argument to a command that takes none.
func parseNoArgs(cmd string, args []string) error {
	if len(args) > 0 {
		return usageErr("%s takes no arguments", cmd)
	}
	return nil
}

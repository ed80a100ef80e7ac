package sys

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// DpkgInfoDir holds dpkg's file lists (PACKAGE.list: one path a line);
// tests point it elsewhere.
var DpkgInfoDir = "/var/lib/dpkg/info"

// Owner is what the package database says of a program.
type Owner struct {
	Package string // "dnsmasq-base"
	Path    string // "/usr/sbin/dnsmasq": the file the package has
	From    string // "dpkg" (installed) or "apt-file" (in the archive)
}

// binDirs are where a package puts programs; a bare name is looked for
// there only, so that "ip" does not match /usr/share/doc/x/ip.
var binDirs = []string{"/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/", "/usr/local/bin/", "/usr/local/sbin/", "/usr/games/"}

// ProgramOwner finds the Debian package that ships prog (a name or an
// absolute path): first among the installed packages, by scanning dpkg's
// file lists (no process; a few MB of text, read only when a program is
// missing), then with apt-file when it is installed. ok is false when
// neither knows; aptFile says whether apt-file was there to ask.
func ProgramOwner(prog string) (o Owner, ok bool, aptFile bool) {
	if o, ok := dpkgOwner(prog); ok {
		return o, true, false
	}
	if _, err := exec.LookPath("apt-file"); err != nil {
		return Owner{}, false, false
	}
	o, ok = aptFileOwner(prog)
	return o, ok, true
}

func matchesProgram(path, prog string) bool {
	if strings.HasPrefix(prog, "/") {
		return path == prog
	}
	dir, base := filepath.Split(path)
	if base != prog {
		return false
	}
	for _, d := range binDirs {
		if dir == d {
			return true
		}
	}
	return false
}

func dpkgOwner(prog string) (Owner, bool) {
	lists, _ := filepath.Glob(filepath.Join(DpkgInfoDir, "*.list"))
	for _, list := range lists {
		f, err := os.Open(list)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if line := sc.Text(); strings.HasSuffix(line, "/"+filepath.Base(prog)) && matchesProgram(line, prog) {
				f.Close()
				pkg, _, _ := strings.Cut(strings.TrimSuffix(filepath.Base(list), ".list"), ":") // "libc-bin:amd64"
				return Owner{Package: pkg, Path: line, From: "dpkg"}, true
			}
		}
		f.Close()
	}
	return Owner{}, false
}

// aptFileOwner asks `apt-file search` (its output: "PACKAGE: PATH").
func aptFileOwner(prog string) (Owner, bool) {
	pattern := prog
	if !strings.HasPrefix(prog, "/") {
		pattern = "/" + prog
	}
	out, err := exec.Command("apt-file", "search", "--fixed-string", pattern).Output()
	if err != nil {
		return Owner{}, false
	}
	for _, line := range strings.Split(string(out), "\n") {
		pkg, path, found := strings.Cut(line, ": ")
		if found && matchesProgram(path, prog) {
			return Owner{Package: pkg, Path: path, From: "apt-file"}, true
		}
	}
	return Owner{}, false
}

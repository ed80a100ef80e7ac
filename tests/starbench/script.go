package starbench

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
)

// ScriptStar returns the shell scripts that build and tear down the star of
// n leaves named after prefix, one `ip` command per operation, the way a lab
// is written by hand. The build stops at the first failing command; the
// teardown deletes every namespace it can and fails if any deletion did.
// It panics on a prefix or n that newLayout refuses, as a script for them
// cannot exist.
func ScriptStar(prefix string, n int) (build, teardown string) {
	l, err := newLayout(prefix, n, PortsPerBridge)
	if err != nil {
		panic("starbench.ScriptStar: " + err.Error())
	}
	return scriptBuild(l), scriptTeardown(l)
}

func scriptBuild(l layout) string {
	var s strings.Builder
	s.WriteString("set -e\n")
	hub := l.hub()
	fmt.Fprintf(&s, "ip netns add %s\n", hub)
	fmt.Fprintf(&s, "ip -n %s link set lo up\n", hub)
	for k := 0; k < l.bridges(); k++ {
		scriptBridge(&s, l, k)
	}
	for i := 0; i < l.n; i++ {
		scriptLeaf(&s, l, i)
	}
	return s.String()
}

func scriptBridge(s *strings.Builder, l layout, k int) {
	hub, br := l.hub(), BridgeName(k)
	fmt.Fprintf(s, "ip -n %s link add %s type bridge\n", hub, br)
	fmt.Fprintf(s, "ip -n %s link set %s up\n", hub, br)
	if k == 0 {
		fmt.Fprintf(s, "ip -n %s addr add %s dev %s\n", hub, HubAddr(), br)
		return
	}
	up, dn := l.joinNames(k)
	fmt.Fprintf(s, "ip -n %s link add %s type veth peer name %s\n", hub, up, dn)
	fmt.Fprintf(s, "ip -n %s link set %s master %s\n", hub, up, br)
	fmt.Fprintf(s, "ip -n %s link set %s master %s\n", hub, dn, BridgeName(0))
	fmt.Fprintf(s, "ip -n %s link set %s up\n", hub, up)
	fmt.Fprintf(s, "ip -n %s link set %s up\n", hub, dn)
}

func scriptLeaf(s *strings.Builder, l layout, i int) {
	hub, leaf, port := l.hub(), l.leaf(i), PortName(i)
	fmt.Fprintf(s, "ip netns add %s\n", leaf)
	fmt.Fprintf(s, "ip -n %s link set lo up\n", leaf)
	fmt.Fprintf(s, "ip -n %s link add %s type veth peer name %s netns %s\n", hub, port, LeafIfName, leaf)
	fmt.Fprintf(s, "ip -n %s link set %s master %s\n", hub, port, l.bridgeOf(i))
	fmt.Fprintf(s, "ip -n %s link set %s up\n", hub, port)
	fmt.Fprintf(s, "ip -n %s addr add %s dev %s\n", leaf, LeafAddr(i), LeafIfName)
	fmt.Fprintf(s, "ip -n %s link set %s up\n", leaf, LeafIfName)
}

// scriptTeardown deletes the leaves first and the hub last, the reverse of
// the build; each deletion runs even if an earlier one failed.
func scriptTeardown(l layout) string {
	var s strings.Builder
	s.WriteString("rc=0\n")
	for i := l.n - 1; i >= 0; i-- {
		fmt.Fprintf(&s, "ip netns del %s || rc=1\n", l.leaf(i))
	}
	fmt.Fprintf(&s, "ip netns del %s || rc=1\n", l.hub())
	s.WriteString("exit $rc\n")
	return s.String()
}

// RunScript runs script with /bin/sh. The script goes in on standard input:
// a 1000-leaf star is far over the kernel's 128 KiB limit on one argument.
// A failure reports the end of what the script wrote to standard error.
func RunScript(script string) error {
	cmd := exec.Command("/bin/sh", "-s")
	cmd.Stdin = strings.NewReader(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("run script (%d lines): %w: %s", strings.Count(script, "\n"), err, tail(stderr.String(), 2000))
	}
	return nil
}

// tail is the last max bytes of s, trimmed: enough to see why a long
// script failed without flooding the error.
func tail(s string, max int) string {
	s = strings.TrimSpace(s)
	if len(s) > max {
		s = "..." + s[len(s)-max:]
	}
	return s
}

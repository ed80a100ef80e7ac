package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/nslua/nslua/internal/capture"
	"github.com/nslua/nslua/internal/nsfs"
	"github.com/nslua/nslua/internal/sys"
)

type captureOpts struct {
	targets  []string
	file     string // "" = summaries on stdout, "-" = pcapng on stdout
	filter   string
	count    int
	duration time.Duration
}

func parseCaptureArgs(args []string) (*captureOpts, error) {
	o := &captureOpts{}
	for len(args) > 0 {
		a := args[0]
		if a == "-w" || a == "-f" || a == "-c" || a == "--duration" {
			if len(args) < 2 {
				return nil, usageErr("capture: %s needs an argument", a)
			}
			v := args[1]
			args = args[2:]
			var err error
			switch a {
			case "-w":
				o.file = v
			case "-f":
				o.filter = v
			case "-c":
				if o.count, err = strconv.Atoi(v); err != nil || o.count < 1 {
					return nil, usageErr("capture: -c wants a packet count of at least 1, got %q", v)
				}
			case "--duration":
				if o.duration, err = parseDuration(v); err != nil {
					return nil, usageErr("capture: --duration: %v", err)
				}
			}
			continue
		}
		if strings.HasPrefix(a, "-") {
			return nil, usageErr("capture: unknown option %s", a)
		}
		o.targets = append(o.targets, a)
		args = args[1:]
	}
	if len(o.targets) == 0 {
		return nil, usageErr("capture needs at least one NS:LINK (e.g. lab1:eth0, host:veth0)")
	}
	return o, nil
}

// parseDuration takes Go durations ("1m30s") and plain seconds ("2.5").
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (e.g. 10s, 1m, 2.5)", s)
	}
	return d, nil
}

// captureTarget opens the namespace of an NS:LINK ("host": nslua's own).
func captureTarget(spec string) (capture.Target, error) {
	i := strings.LastIndexByte(spec, ':')
	if i <= 0 || i == len(spec)-1 {
		return capture.Target{}, fmt.Errorf("%q is not NS:LINK (e.g. lab1:eth0, host:veth0)", spec)
	}
	ns, link := spec[:i], spec[i+1:]
	path := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), os.Getpid()) // the main thread stays in the host namespace
	if ns != "host" {
		if _, err := nsfs.Open(ns); err != nil {
			return capture.Target{}, fmt.Errorf("capture %s: %w", spec, err)
		}
		path = nsfs.PinPath(ns)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return capture.Target{}, fmt.Errorf("capture %s: open %s: %w", spec, path, err)
	}
	return capture.Target{Name: spec, NsFd: fd, Link: link}, nil
}

func cmdCapture(args []string) error {
	o, err := parseCaptureArgs(args)
	if err != nil {
		return err
	}
	var targets []capture.Target
	defer func() {
		for _, t := range targets {
			unix.Close(t.NsFd)
		}
	}()
	for _, spec := range o.targets {
		t, err := captureTarget(spec)
		if err != nil {
			return &exitError{code: 1, msg: sys.NeedRoot(err).Error()}
		}
		targets = append(targets, t)
	}
	out, closeOut, err := captureOutput(o.file)
	if err != nil {
		return err
	}
	opts := capture.Options{Filter: o.filter, Count: o.count, Out: out}
	broken := make(chan struct{}) // stdout is gone (`| head -3` is done): stop, as tcpdump does
	var once sync.Once
	if o.file == "" {
		opts.OnPacket = func(p capture.Packet) {
			if _, err := fmt.Fprintln(os.Stdout, p.Line()); err != nil {
				once.Do(func() { close(broken) })
			}
		}
	}
	sigs := make(chan os.Signal, 1)
	// SIGPIPE taken, so that a closed reader (wireshark quit) ends the
	// capture through a write error, with a clean exit, not a crash.
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	defer signal.Stop(sigs)
	c, err := capture.Start(targets, opts)
	if err != nil {
		closeOut()
		return &exitError{code: 1, msg: sys.NeedRoot(err).Error()}
	}
	fmt.Fprintf(os.Stderr, "nslua: capturing on %s%s\n", strings.Join(o.targets, ", "), filterNote(o.filter))
	waitCapture(c, sigs, broken, o.duration)
	err = c.Stop()
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	reportCapture(c)
	if err != nil && !errors.Is(err, syscall.EPIPE) {
		return &exitError{code: 1, msg: fmt.Sprintf("capture: %v", err)}
	}
	return nil
}

func filterNote(f string) string {
	if f == "" {
		return ""
	}
	return fmt.Sprintf(" (filter %q)", f)
}

func captureOutput(file string) (io.Writer, func() error, error) {
	switch file {
	case "":
		return nil, func() error { return nil }, nil
	case "-":
		if term.IsTerminal(int(os.Stdout.Fd())) {
			return nil, nil, usageErr("capture: -w - writes pcapng to stdout, which is a terminal: pipe it (| wireshark -k -i -) or give a file")
		}
		return os.Stdout, func() error { return nil }, nil
	}
	f, err := capture.CreateFile(file)
	if err != nil {
		return nil, nil, &exitError{code: 1, msg: fmt.Sprintf("capture: %v", err)}
	}
	return f, f.Close, nil
}

// waitCapture returns on a signal (SIGPIPE only ends it through the write
// error it causes), after the duration, or when the capture ended itself.
func waitCapture(c *capture.Capture, sigs chan os.Signal, broken chan struct{}, d time.Duration) {
	var timeout <-chan time.Time
	if d > 0 {
		timeout = time.After(d)
	}
	for {
		select {
		case sig := <-sigs:
			if sig != syscall.SIGPIPE {
				return
			}
		case <-timeout:
			return
		case <-broken:
			return
		case <-c.Done():
			return
		}
	}
}

func reportCapture(c *capture.Capture) {
	var recv, drop uint64
	for _, st := range c.Stats() {
		recv += st.Received
		drop += st.Dropped
		if st.Err != nil {
			fmt.Fprintf(os.Stderr, "nslua: capture: %v\n", st.Err)
		}
	}
	fmt.Fprintf(os.Stderr, "nslua: %d packets captured on %d link(s); kernel: %d received, %d dropped\n",
		c.Count(), len(c.Stats()), recv, drop)
	if n := c.OutOfOrder(); n > 0 {
		fmt.Fprintf(os.Stderr, "nslua: %d packets came seconds late and are out of time order\n", n)
	}
}

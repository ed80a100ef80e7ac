package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nslua/nslua/internal/inspect"
	"github.com/nslua/nslua/internal/view"
)

const defaultListen = "127.0.0.1:7464"

type serveOpts struct {
	lab, listen string
	remote      bool // --allow-remote: a non-loopback --listen was asked for
}

func parseServeArgs(args []string) (serveOpts, error) {
	o := serveOpts{listen: defaultListen}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--listen" && i+1 < len(args):
			o.listen = args[i+1]
			i++
		case strings.HasPrefix(a, "--listen="):
			o.listen = strings.TrimPrefix(a, "--listen=")
		case a == "--allow-remote":
			o.remote = true
		case strings.HasPrefix(a, "-"):
			return o, usageErr("serve: unknown option %s", a)
		case o.lab == "":
			o.lab = a
		default:
			return o, usageErr("serve takes at most one lab")
		}
	}
	if _, err := strconv.Atoi(o.listen); err == nil { // a bare port
		o.listen = "127.0.0.1:" + o.listen
	}
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return o, usageErr("serve: --listen %q: want HOST:PORT, e.g. %s", o.listen, defaultListen)
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	if !loopback && !o.remote {
		return o, usageErr("serve: --listen %s is not a loopback address: anyone who can reach it would see the lab's addresses, routes and command lines; add --allow-remote to serve it anyway", o.listen)
	}
	o.remote = !loopback
	return o, nil
}

// cmdServe serves a live, read-only page of the topology until Ctrl-C.
func cmdServe(args []string) error {
	o, err := parseServeArgs(args)
	if err != nil {
		return err
	}
	source := serveSource(o.lab)
	if _, _, err := source(); err != nil {
		return &exitError{code: 1, msg: "serve: " + err.Error()}
	}
	if err := view.CheckDot(); err != nil {
		return &exitError{code: 1, msg: "serve: " + err.Error()}
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("serve: %v", err)}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	title := "lab " + o.lab
	if o.lab == "" {
		title = "all namespaces"
	}
	srv := &http.Server{
		Handler:           &view.Server{Source: source, Title: title, Log: os.Stderr, Remote: o.remote},
		BaseContext:       func(net.Listener) context.Context { return ctx }, // ends the event streams on Ctrl-C
		ReadHeaderTimeout: 10 * time.Second,
	}
	if o.remote {
		fmt.Fprintf(os.Stderr, "nslua: warning: serving on %s, not only on loopback: every host that reaches it sees the lab's addresses, routes and command lines\n", ln.Addr())
	}
	fmt.Printf("serving read-only on http://%s/ (JSON: /api/inspect); Ctrl-C stops\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return &exitError{code: 1, msg: fmt.Sprintf("serve: %v", err)}
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	srv.Shutdown(shut)
	fmt.Println("stopped")
	return nil
}

// serveSource reads what graph draws: LAB's namespaces (none yet is no
// error: the page fills in when the lab comes up), or every pinned
// namespace and the host.
func serveSource(labName string) view.Source {
	return func() ([]*inspect.Info, *inspect.Info, error) {
		opts := ownerOpts()
		infos, err := inspect.All(opts)
		if err != nil {
			return nil, nil, err
		}
		if labName != "" {
			return labOnly(infos, labName), nil, nil
		}
		host, err := inspect.Host(opts)
		return infos, host, err
	}
}

// Package view draws namespaces as pictures (SVG, PNG, one self-contained
// HTML page) and serves a live page of them. The layout is Graphviz's:
// inspect.Picture writes the DOT, and dot(1) from Debian's graphviz lays
// it out; nothing here talks to the network but the local server.
package view

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/nslua/nslua/internal/inspect"
)

// ErrNoDot is returned when Graphviz's dot is not installed.
var ErrNoDot = errors.New("Graphviz's dot is not installed (Debian package graphviz: apt-get install graphviz)")

// dotTimeout bounds one layout: a huge lab takes seconds, a hung dot must
// not hang the server.
const dotTimeout = 60 * time.Second

// Render lays the topology out with dot and returns it as format: "svg"
// or "png".
func Render(ctx context.Context, infos []*inspect.Info, host *inspect.Info, format string) ([]byte, error) {
	if format != "svg" && format != "png" {
		return nil, fmt.Errorf("render: unknown format %q (want svg or png)", format)
	}
	var src bytes.Buffer
	if err := inspect.Picture(&src, infos, host); err != nil {
		return nil, err
	}
	return runDot(ctx, src.Bytes(), format)
}

// CheckDot returns ErrNoDot when dot is not installed.
func CheckDot() error {
	if _, err := exec.LookPath("dot"); err != nil {
		return ErrNoDot
	}
	return nil
}

func runDot(ctx context.Context, src []byte, format string) ([]byte, error) {
	path, err := exec.LookPath("dot")
	if err != nil {
		return nil, ErrNoDot
	}
	ctx, cancel := context.WithTimeout(ctx, dotTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-T"+format)
	cmd.Stdin = bytes.NewReader(src)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("dot -T%s: %v: %s", format, err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}

// inlineSVG is dot's SVG without its XML prolog and DOCTYPE, to put
// inside an HTML page.
func inlineSVG(svg []byte) []byte {
	if i := bytes.Index(svg, []byte("<svg")); i >= 0 {
		return svg[i:]
	}
	return svg
}

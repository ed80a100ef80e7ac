package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/nslua/nslua/internal/inspect"
	"github.com/nslua/nslua/internal/view"
)

var graphFormats = map[string]bool{"dot": true, "mermaid": true, "svg": true, "png": true, "html": true}

// writeGraph writes the topology in format to outFile, or to stdout when
// it is "". The file is written only once the whole picture is made, so a
// failed layout leaves no half file.
func writeGraph(format, outFile, labName string, infos []*inspect.Info, host *inspect.Info) error {
	var buf bytes.Buffer
	var err error
	switch format {
	case "dot", "mermaid":
		err = inspect.Graph(&buf, infos, host, format)
	case "svg", "png":
		var pic []byte
		pic, err = view.Render(context.Background(), infos, host, format)
		buf.Write(pic)
	case "html":
		err = writeHTMLPicture(&buf, labName, infos, host)
	}
	if errors.Is(err, view.ErrNoDot) {
		return &exitError{code: 1, msg: fmt.Sprintf("graph --format %s: %v", format, err)}
	}
	if err != nil {
		return &exitError{code: 1, msg: "graph: " + err.Error()}
	}
	if outFile == "" {
		if format == "png" && term.IsTerminal(int(os.Stdout.Fd())) {
			return usageErr("graph --format png: not writing an image to a terminal; give -o FILE")
		}
		_, err = os.Stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(outFile, buf.Bytes(), 0o644); err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("graph: %v", err)}
	}
	return nil
}

func writeHTMLPicture(buf *bytes.Buffer, labName string, infos []*inspect.Info, host *inspect.Info) error {
	svg, err := view.Render(context.Background(), infos, host, "svg")
	if err != nil {
		return err
	}
	title := "lab " + labName
	if labName == "" {
		title = "all namespaces"
	}
	status := "snapshot of " + time.Now().Format("2006-01-02 15:04:05 MST")
	return view.WriteHTML(buf, title, status, infos, svg)
}

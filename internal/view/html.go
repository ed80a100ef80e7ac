package view

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"io"
	"sync"

	"github.com/nslua/nslua/internal/inspect"
)

// The page is one file: its CSS, script, picture and data are all inline,
// so that it opens anywhere, offline, and can be mailed around.
var (
	//go:embed assets/page.html
	pageHTML string
	//go:embed assets/page.css
	pageCSS string
	//go:embed assets/page.js
	pageJS string
)

// pageTmpl is parsed on first use: every nslua command links this package,
// and parsing the page at start cost each of them (a run, `nslua exec`)
// about a millisecond.
var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(pageHTML))
})

// pageData is what the page's script reads from #nslua-data; an event of
// the live page carries the same fields plus the picture.
type pageData struct {
	Infos  []*inspect.Info `json:"infos"`
	Live   bool            `json:"live"`
	Status string          `json:"status"`
	SVG    string          `json:"svg,omitempty"`
}

// WriteHTML writes the self-contained page: svg (from Render) and infos,
// whose details the page shows on pointing at a namespace. infos must be
// those the picture was drawn from, in the same order (the picture's ids
// are their indexes).
func WriteHTML(w io.Writer, title, status string, infos []*inspect.Info, svg []byte) error {
	return writePage(w, title, pageData{Infos: nonNil(infos), Status: status}, svg)
}

func writePage(w io.Writer, title string, data pageData, svg []byte) error {
	// json.Marshal escapes <, > and &, so the data cannot end its script
	// element early, whatever names it holds.
	js, err := json.Marshal(data)
	if err != nil {
		return err
	}
	return pageTmpl().Execute(w, map[string]any{
		"Title":  title,
		"Status": data.Status,
		"CSS":    template.CSS(pageCSS),
		"JS":     template.JS(pageJS),
		"SVG":    template.HTML(inlineSVG(svg)), // dot's output: it escapes every label
		"Data":   template.JS(js),
	})
}

func nonNil(infos []*inspect.Info) []*inspect.Info {
	if infos == nil {
		return []*inspect.Info{}
	}
	return infos
}

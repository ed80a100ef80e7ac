package view

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/nslua/nslua/internal/inspect"
)

// Source reads the live state: the namespaces to show (what the JSON
// endpoint serves, as `nslua inspect --json` prints them) and the host, or
// nil, for the picture's host-side links.
type Source func() (infos []*inspect.Info, host *inspect.Info, err error)

// Server is the live page. It reads nothing while no page watches: with
// one or more open, it reads the source every Interval, and when what it
// reads changed (a hash of it) lays the picture out again and pushes it
// to every page as a server-sent event. Every handler only reads.
type Server struct {
	Source   Source
	Title    string
	Interval time.Duration // default 250 ms
	Log      io.Writer     // one line per page that comes and goes; nil: none
	// Remote lets requests name any Host; otherwise only loopback names
	// are served, so that a web page elsewhere cannot read the lab through
	// a visitor's browser by pointing a DNS name at 127.0.0.1.
	Remote bool

	mu    sync.Mutex
	last  *snapshot
	subs  map[chan *snapshot]bool
	wake  chan struct{}
	start sync.Once
}

// snapshot is one state of the lab, ready to send.
type snapshot struct {
	hash  [32]byte
	infos []*inspect.Info
	json  []byte // as `inspect --json` prints it
	event []byte // pageData with the picture, for the event stream
	svg   []byte
}

// ServeHTTP serves /, /api/inspect, /api/graph.svg and /events.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "read-only: only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	if !s.Remote && !loopbackHost(r.Host) {
		http.Error(w, "this server answers only to a loopback name such as 127.0.0.1", http.StatusMisdirectedRequest)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch r.URL.Path {
	case "/":
		s.page(w, r)
	case "/api/inspect":
		s.fresh(w, "application/json", func(sn *snapshot) []byte { return sn.json })
	case "/api/graph.svg":
		s.fresh(w, "image/svg+xml", func(sn *snapshot) []byte { return sn.svg })
	case "/events":
		s.events(w, r)
	default:
		http.NotFound(w, r)
	}
}

func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// fresh answers with part of a snapshot read now.
func (s *Server) fresh(w http.ResponseWriter, ctype string, part func(*snapshot) []byte) {
	sn, err := s.read()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(part(sn))
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	sn, err := s.read()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	data := pageData{Infos: sn.infos, Live: true, Status: "live: connecting..."}
	if err := writePage(&buf, s.Title, data, sn.svg); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The page needs nothing but itself and this server's event stream.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'")
	w.Write(buf.Bytes())
}

// read takes a snapshot now, reusing the last one's picture when nothing
// changed (the layout is the expensive part).
func (s *Server) read() (*snapshot, error) {
	infos, host, err := s.Source()
	if err != nil {
		return nil, err
	}
	infos = nonNil(infos)
	var js bytes.Buffer
	if err := inspect.WriteJSON(&js, infos); err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(js.Bytes())
	if host != nil { // the picture uses the host's links only, not its processes
		hl, _ := json.Marshal(host.Links)
		h.Write(hl)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	if last != nil && last.hash == sum {
		return last, nil
	}
	svg, err := Render(context.Background(), infos, host, "svg")
	if err != nil {
		return nil, err
	}
	status := "live: changed at " + time.Now().Format("15:04:05")
	ev, err := json.Marshal(pageData{Infos: infos, Live: true, Status: status, SVG: string(inlineSVG(svg))})
	if err != nil {
		return nil, err
	}
	sn := &snapshot{hash: sum, infos: infos, json: js.Bytes(), event: ev, svg: svg}
	s.mu.Lock()
	s.last = sn
	s.mu.Unlock()
	return sn, nil
}

// events streams every new snapshot to one page, the current one first.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch, n := s.subscribe()
	defer s.unsubscribe(ch, r.RemoteAddr)
	s.logf("%s: page connected (%d watching)", r.RemoteAddr, n)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	sent := [32]byte{}
	if sn, err := s.read(); err == nil {
		fmt.Fprintf(w, "data: %s\n\n", sn.event)
		sent = sn.hash
	}
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case sn := <-ch:
			if sn.hash == sent {
				continue
			}
			sent = sn.hash
			if _, err := fmt.Fprintf(w, "data: %s\n\n", sn.event); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

func (s *Server) subscribe() (chan *snapshot, int) {
	s.start.Do(func() {
		s.subs = map[chan *snapshot]bool{}
		s.wake = make(chan struct{}, 1)
		go s.poll()
	})
	ch := make(chan *snapshot, 1)
	s.mu.Lock()
	s.subs[ch] = true
	n := len(s.subs)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return ch, n
}

func (s *Server) unsubscribe(ch chan *snapshot, who string) {
	s.mu.Lock()
	delete(s.subs, ch)
	n := len(s.subs)
	s.mu.Unlock()
	s.logf("%s: page gone (%d watching)", who, n)
}

// poll reads the source while pages watch and hands each page the newest
// snapshot; a page that has not taken the previous one gets this instead.
func (s *Server) poll() {
	interval := s.Interval
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		s.mu.Lock()
		watching := len(s.subs) > 0
		s.mu.Unlock()
		if !watching {
			<-s.wake
			continue
		}
		<-tick.C
		sn, err := s.read()
		if err != nil {
			s.logf("reading the namespaces: %v", err)
			continue
		}
		s.mu.Lock()
		for ch := range s.subs {
			select {
			case <-ch:
			default:
			}
			ch <- sn
		}
		s.mu.Unlock()
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, format+"\n", args...)
	}
}

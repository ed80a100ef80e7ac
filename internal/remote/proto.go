// Package remote is how a controller reaches the hosts of a multi-host
// lab: the line-delimited JSON protocol it speaks with `nslua agent` on
// each host (over ssh's stdin and stdout: no port), the ssh transport with
// the copy of nslua's own binary, and the underlay lookups a cross-host
// link needs. It knows nothing of Lua: values cross as Value trees.
package remote

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Proto is the protocol's number; both sides must speak the same.
const Proto = 1

// Operations of a Msg.
const (
	OpHello    = "hello"    // controller first: its version; the agent answers with its own
	OpCall     = "call"     // Method of handle Target (0 = the module ns) with Args
	OpGet      = "get"      // field Method of handle Target
	OpUnderlay = "underlay" // the underlay device, address and MTU toward Peer
	OpBye      = "bye"      // the agent's last message, after its teardown
	OpMissing  = "missing"  // instead of an agent: the host has no nslua of this build
)

// Msg is one line of the protocol, either way. A reply has the request's
// ID and either Err or its results.
type Msg struct {
	ID      int     `json:"id,omitempty"`
	Op      string  `json:"op,omitempty"`
	Version string  `json:"version,omitempty"` // hello: nslua's version
	Build   string  `json:"build,omitempty"`   // hello: which build of it (dev builds share a version)
	Proto   int     `json:"proto,omitempty"`
	Target  int     `json:"target,omitempty"`
	Method  string  `json:"method,omitempty"`
	Args    []Value `json:"args,omitempty"`
	Results []Value `json:"results,omitempty"`
	Err     string  `json:"err,omitempty"`

	SSH   string `json:"ssh,omitempty"`   // hello reply: the agent's $SSH_CONNECTION
	Bin   string `json:"bin,omitempty"`   // hello reply: the agent's binary (for nslua down there)
	Peer  string `json:"peer,omitempty"`  // underlay: the other end's address
	Dev   string `json:"dev,omitempty"`   // underlay: the device (given, or found by route)
	Local string `json:"local,omitempty"` // underlay reply: this host's source address
	MTU   int    `json:"mtu,omitempty"`   // underlay reply: the device's MTU
	Code  int    `json:"code,omitempty"`  // bye: the agent run's exit status
}

// Value is one Lua value: T is nil, bool, num, str, tab or h (a handle of
// an object that stays on the agent's host).
type Value struct {
	T string  `json:"t"`
	B bool    `json:"b,omitempty"`
	N float64 `json:"n,omitempty"`
	S string  `json:"s,omitempty"` // str; num when it is not finite ("inf", "-inf", "nan")
	X []byte  `json:"x,omitempty"` // str that is not valid UTF-8 (JSON strings must be)
	K []Value `json:"k,omitempty"` // tab: keys
	V []Value `json:"v,omitempty"` // tab: values, V[i] at K[i]

	H       int      `json:"h,omitempty"`       // h: the handle's number on its host
	Type    string   `json:"type,omitempty"`    // h: the object's type (Netns, Link, Proc)
	Label   string   `json:"label,omitempty"`   // h: tostring of the object
	Name    string   `json:"name,omitempty"`    // h: its name (a Netns's, a Link's)
	Fields  []string `json:"fields,omitempty"`  // h: its fields, read with OpGet
	Methods []string `json:"methods,omitempty"` // h: its methods, called with OpCall
}

// ErrClosed is the error of a request on a connection that has ended.
var ErrClosed = errors.New("the connection is closed")

// Conn is one side's end of the protocol: requests and replies one at a
// time, matched by ID.
type Conn struct {
	enc *json.Encoder
	wmu sync.Mutex
	r   *bufio.Reader
}

// NewConn speaks the protocol over r and w.
func NewConn(r io.Reader, w io.Writer) *Conn {
	return &Conn{enc: json.NewEncoder(w), r: bufio.NewReaderSize(r, 64<<10)}
}

// Send writes m as one line.
func (c *Conn) Send(m *Msg) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.enc.Encode(m)
}

// Recv reads the next message; io.EOF when the other side closed cleanly.
func (c *Conn) Recv() (*Msg, error) {
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return nil, fmt.Errorf("a message cut short (%d bytes)", len(line))
		}
		return nil, err
	}
	m := &Msg{}
	if err := json.Unmarshal(line, m); err != nil {
		return nil, fmt.Errorf("not a protocol message (%.80q): %w", line, err)
	}
	return m, nil
}

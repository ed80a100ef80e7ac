package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Client is the controller's side of one agent: one request at a time,
// its reply read by a goroutine of its own, so that a lost connection or
// an ended context never leaves a call hanging.
type Client struct {
	Name  string // the host's name in the lab
	Hello *Msg   // the agent's answer to the handshake

	conn    *Conn
	stdin   io.Closer
	mu      sync.Mutex // one request at a time
	nextID  int
	replies chan *Msg
	done    chan struct{} // closed when the agent's output ends
	dead    error         // why it ended (set before done is closed)
	bye     *Msg          // the agent's report, if it sent one
	missing bool          // the host has no nslua of this build
	cut     error         // why the input was closed while a request was being sent
	wait    func() error  // waits for the transport (ssh) to exit
}

// NewClient speaks to an agent whose output is r and input w (closed by
// Close); wait, if not nil, waits for the process behind them.
func NewClient(name string, r io.Reader, w io.WriteCloser, wait func() error) *Client {
	c := &Client{Name: name, conn: NewConn(r, w), stdin: w, replies: make(chan *Msg, 1),
		done: make(chan struct{}), wait: wait}
	go c.read()
	return c
}

func (c *Client) read() {
	defer close(c.done)
	for {
		m, err := c.conn.Recv()
		if err != nil {
			if err == io.EOF {
				err = errors.New("the connection to its agent is lost")
			} else {
				err = fmt.Errorf("the connection to its agent is lost: %w", err)
			}
			c.dead = err
			return
		}
		if m.Op == OpBye {
			c.bye = m
			continue
		}
		if m.Op == OpMissing { // the start script found no nslua of this build
			c.missing = true
			continue
		}
		select {
		case c.replies <- m:
		default: // a reply nobody waits for any more: a call that was interrupted
			<-c.replies
			c.replies <- m
		}
	}
}

// Err is why the connection ended, or nil while it is up.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.dead
	default:
		return nil
	}
}

// Request sends m and returns the agent's reply (an Err in it is the
// caller's to raise). A lost connection or ctx's end is an error.
func (c *Client) Request(ctx context.Context, m *Msg) (*Msg, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Err(); err != nil {
		return nil, err
	}
	if c.cut != nil {
		return nil, c.cut
	}
	c.nextID++
	m.ID = c.nextID
	if err := c.send(ctx, m); err != nil {
		return nil, err
	}
	for {
		select {
		case r := <-c.replies:
			if r.ID == m.ID {
				return r, nil
			}
		case <-c.done:
			return nil, c.dead
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// send writes m, or gives up when ctx ends or the agent goes: an agent
// (or its ssh) that stops reading fills the pipe, and a write into a full
// pipe would hold Ctrl-C up for good. Giving up leaves part of a message
// in the stream, so the input is closed (which tells the agent to tear its
// part down, as the end of the run would) and later requests fail.
func (c *Client) send(ctx context.Context, m *Msg) error {
	sent := make(chan error, 1)
	go func() { sent <- c.conn.Send(m) }()
	select {
	case err := <-sent:
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		return nil
	case <-c.done:
		return c.dead
	case <-ctx.Done():
		c.cut = fmt.Errorf("host %s: its agent's input was closed: a request could not be sent (%v)", c.Name, context.Cause(ctx))
		c.stdin.Close()
		return context.Cause(ctx)
	}
}

// Close ends the agent's input, so that it tears its part down, and waits
// for its report until ctx ends. It returns the report (nil when none
// came: the connection was lost) and what went wrong.
func (c *Client) Close(ctx context.Context) (*Msg, error) {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("host %s: no report from its agent: %w", c.Name, context.Cause(ctx))
	}
	var werr error
	if c.wait != nil {
		werr = c.wait()
	}
	if c.bye == nil {
		if werr != nil {
			return nil, fmt.Errorf("host %s: the connection was lost (%v) before its agent reported", c.Name, werr)
		}
		return nil, fmt.Errorf("host %s: the connection was lost before its agent reported", c.Name)
	}
	return c.bye, nil
}

package luabind

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/nslua/nslua/internal/lab"
	"github.com/nslua/nslua/internal/remote"
)

func init() { lab.HostDown = downHost }

// closeAll ends every agent at the lab's close (before the lab's own
// teardown): their stdin closes, each tears its part down and reports.
// A host whose report does not come stays in the journal, so the
// teardown then runs `nslua down` there; a kept lab's agents keep theirs.
func (hs *hostSet) closeAll() {
	l := hs.rt.Lab
	kept := l.Kept()
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for name, c := range hs.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if kept {
				if r, err := c.Request(ctx, &remote.Msg{Op: remote.OpCall, Method: "keep"}); err != nil || r.Err != "" {
					fmt.Fprintf(l.Log, "nslua: host %s: could not keep its part: %v%s\n", name, err, r.Err)
				}
			}
			bye, err := c.Close(ctx)
			switch {
			case err != nil:
				fmt.Fprintf(l.Log, "nslua: teardown: %v; its part is undone from its journal there\n", err)
			case bye.Code != 0:
				fmt.Fprintf(l.Log, "nslua: teardown: host %s: its agent ended with status %d\n", name, bye.Code)
			case !kept:
				l.HostGone(hs.entries[name])
			}
		}()
	}
	wg.Wait()
}

// downHost is `nslua down LAB` on host, over ssh, with the binary the run
// used there. A host whose agent is still tearing down is waited for; one
// that has nothing of the lab left is done.
func downHost(labName, host, how string, log io.Writer) error {
	tg, bin, err := remote.ParseRecord(host, how)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	for {
		out, err := remote.Output(ctx, tg, remote.Quote(bin)+" down "+remote.Quote(labName))
		switch {
		case err == nil:
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				fmt.Fprintf(log, "  [%s] %s\n", host, line)
			}
			return nil
		case strings.Contains(out, lab.ErrNoLab.Error()):
			return nil // its agent undid it all
		case strings.Contains(out, "is in use by") && ctx.Err() == nil:
			time.Sleep(300 * time.Millisecond) // its agent is tearing down now
			continue
		}
		return fmt.Errorf("nslua down over ssh: %v: %s", err, strings.TrimSpace(out))
	}
}

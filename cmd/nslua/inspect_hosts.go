package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nslua/nslua/internal/inspect"
	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/remote"
)

// otherHostsInfos are the namespaces that the other hosts of this host's
// labs hold (a lab across machines journals each host it reached): each
// host's `nslua inspect --json` over ssh, its namespaces of that lab,
// marked with the host's name. A host that does not answer is reported
// on log and left out.
func otherHostsInfos(log io.Writer) []*inspect.Info {
	labs, err := journal.Labs()
	if err != nil {
		return nil
	}
	var out []*inspect.Info
	for _, name := range labs {
		st, err := journal.Read(name)
		if err != nil {
			continue
		}
		for _, e := range st.Live() {
			if e.Kind != journal.KindHost {
				continue
			}
			infos, err := hostInfos(name, e.Name, e.Cmd)
			if err != nil {
				fmt.Fprintf(log, "nslua: inspect: lab %s: %v\n", name, err)
			}
			out = append(out, infos...)
		}
	}
	return out
}

func hostInfos(labName, host, how string) ([]*inspect.Info, error) {
	tg, bin, err := remote.ParseRecord(host, how)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := remote.Output(ctx, tg, remote.Quote(bin)+" inspect --json 2>/dev/null")
	if err != nil {
		return nil, fmt.Errorf("host %s: inspect over ssh: %v: %s", host, err, strings.TrimSpace(out))
	}
	var all []*inspect.Info
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		return nil, fmt.Errorf("host %s: inspect over ssh: %w", host, err)
	}
	var mine []*inspect.Info
	for _, info := range all {
		if info.Lab == labName {
			info.Host = host
			mine = append(mine, info)
		}
	}
	return mine, nil
}

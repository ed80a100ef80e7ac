package luabind

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/remote"
)

// LocalHost is the controller's own name among a lab's hosts.
const LocalHost = "local"

// dialTimeout bounds reaching a host: ssh, the binary's copy, the handshake.
const dialTimeout = 2 * time.Minute

// closeTimeout bounds waiting for an agent's report at the end.
const closeTimeout = 5 * time.Minute

// hostSet is the controller's side of a multi-host lab: the hosts named
// by ns.hosts, their agents, and the proxies of their objects.
type hostSet struct {
	rt        *Runtime
	config    string // ssh_config for hosts that name none
	targets   map[string]remote.Target
	order     []string // names in the order they were added, for placement
	clients   map[string]*remote.Client
	entries   map[string]*journal.Entry
	proxies   map[string]map[int]*lua.LUserData // host -> handle -> proxy
	metas     map[string]*lua.LTable            // the proxies' metatables, by type
	methods   map[string]*lua.LFunction         // forwarding functions, by method name
	hostNs    map[string]*lua.LUserData         // ns.host() on each host
	links     int                               // cross-host links made, for VNIs
	underlays map[string]underlayWay            // "host peer-address" -> the way there (hosts_veth.go)
	place     placement
	closing   bool // closeAll is registered with the lab
}

func (rt *Runtime) hostSet() *hostSet {
	if rt.hosts == nil {
		rt.hosts = &hostSet{rt: rt, config: rt.SSHConfig, targets: map[string]remote.Target{},
			clients: map[string]*remote.Client{}, entries: map[string]*journal.Entry{},
			proxies: map[string]map[int]*lua.LUserData{}, metas: map[string]*lua.LTable{},
			methods: map[string]*lua.LFunction{}, hostNs: map[string]*lua.LUserData{}}
	}
	return rt.hosts
}

// nsHosts is ns.hosts{ b = "user@addr", c = {ssh = "alias", underlay =
// "eth0"}, ssh_config = PATH }: it reaches each host and starts its agent.
func (rt *Runtime) nsHosts(L *lua.LState) int {
	c := newCall(L, "ns.hosts", 1)
	t := c.optTable(1, "hosts")
	if t == nil {
		c.bad(1, "hosts", "a table of host names to ssh destinations", L.Get(1))
	}
	hs := rt.hostSet()
	targets, err := hs.readTargets(t)
	c.check(err)
	c.check(hs.connect(ctxOf(L), targets))
	return 0
}

// readTargets reads ns.hosts' table (and a --hosts file's).
func (hs *hostSet) readTargets(t *lua.LTable) ([]remote.Target, error) {
	config := hs.config
	if v, ok := t.RawGetString("ssh_config").(lua.LString); ok {
		config = string(v)
	} else if v := t.RawGetString("ssh_config"); v != lua.LNil {
		return nil, fmt.Errorf("ssh_config must be a path, got %s", typeName(v))
	}
	var out []remote.Target
	var err error
	t.ForEach(func(k, v lua.LValue) {
		if err != nil || k.String() == "ssh_config" {
			return
		}
		var tg remote.Target
		if tg, err = readTarget(k, v); err == nil {
			if tg.Config == "" {
				tg.Config = config
			}
			out = append(out, tg)
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

func readTarget(k, v lua.LValue) (remote.Target, error) {
	name, ok := k.(lua.LString)
	if !ok {
		return remote.Target{}, fmt.Errorf("host names must be strings, got %s", typeName(k))
	}
	tg := remote.Target{Name: string(name)}
	if err := checkName(tg.Name); err != nil {
		return tg, fmt.Errorf("host name %v", err)
	}
	switch v := v.(type) {
	case lua.LString:
		tg.SSH = string(v)
	case *lua.LTable:
		var bad error
		v.ForEach(func(key, val lua.LValue) {
			s, isStr := val.(lua.LString)
			switch {
			case !isStr:
				bad = fmt.Errorf("host %s: %s must be a string, got %s", tg.Name, key, typeName(val))
			case key.String() == "ssh":
				tg.SSH = string(s)
			case key.String() == "underlay":
				tg.Underlay = string(s)
			case key.String() == "ssh_config":
				tg.Config = string(s)
			default:
				bad = fmt.Errorf("host %s: unknown key %s (ssh, underlay, ssh_config)", tg.Name, key)
			}
		})
		if bad != nil {
			return tg, bad
		}
	default:
		return tg, fmt.Errorf("host %s must be an ssh destination or {ssh = ..., underlay = ...}, got %s", tg.Name, typeName(v))
	}
	return tg, checkTarget(tg)
}

func checkTarget(tg remote.Target) error {
	if tg.Name == LocalHost {
		return fmt.Errorf("host name %q is the controller itself; give the others other names", LocalHost)
	}
	if tg.SSH == "" || strings.HasPrefix(tg.SSH, "-") || strings.ContainsAny(tg.SSH, " \t\n") {
		return fmt.Errorf("host %s: ssh destination %q is not a user@host or an alias", tg.Name, tg.SSH)
	}
	return nil
}

// connect starts the agents of targets, all at once; each host is in the
// journal before its agent makes anything there.
func (hs *hostSet) connect(ctx context.Context, targets []remote.Target) error {
	for _, tg := range targets {
		if _, dup := hs.targets[tg.Name]; dup {
			return fmt.Errorf("host %s is already one of the lab's hosts", tg.Name)
		}
	}
	if !hs.closing && len(targets) > 0 {
		hs.closing = true
		hs.rt.Lab.OnClose(hs.closeAll)
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for _, tg := range targets {
		hs.targets[tg.Name] = tg
		hs.order = append(hs.order, tg.Name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, e, err := hs.dial(ctx, tg)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			hs.clients[tg.Name], hs.entries[tg.Name] = c, e
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (hs *hostSet) dial(ctx context.Context, tg remote.Target) (*remote.Client, *journal.Entry, error) {
	l := hs.rt.Lab
	c, err := remote.Start(ctx, tg, l.Name, Version, l.Log)
	if err != nil {
		return nil, nil, err
	}
	// The agent has made nothing yet, and undoes what it makes when its
	// stdin closes: the host is journaled before the first call there.
	how, _ := json.Marshal(remote.Record{SSH: tg.SSH, Config: tg.Config, Bin: c.Hello.Bin})
	e, err := l.JournalHost(tg.Name, string(how))
	if err != nil {
		c.Close(ctx)
		return nil, nil, err
	}
	l.HostUp(e)
	return c, e, nil
}

// client is the agent of host, or a Lua error naming what is wrong.
func (hs *hostSet) client(L *lua.LState, host string) *remote.Client {
	c := hs.clients[host]
	if c == nil {
		if _, known := hs.targets[host]; known {
			L.RaiseError("host %s: its agent did not start", host)
		}
		L.RaiseError("no host %s in this lab (ns.hosts names them: %s)", host, strings.Join(hs.names(), ", "))
	}
	return c
}

// names are the hosts whose agents run, the controller first.
func (hs *hostSet) names() []string {
	names := []string{LocalHost}
	for _, name := range hs.order {
		if hs.clients[name] != nil {
			names = append(names, name)
		}
	}
	return names
}

// request sends m to host's agent and returns its results, raising its
// error (or the lost connection) as a Lua error.
func (hs *hostSet) request(L *lua.LState, host string, m *remote.Msg) []lua.LValue {
	vals, err := hs.try(L, host, m)
	if err != nil {
		L.RaiseError("%v", err)
	}
	return vals
}

// try is request with the error returned.
func (hs *hostSet) try(L *lua.LState, host string, m *remote.Msg) ([]lua.LValue, error) {
	r, err := hs.raw(L, host, m)
	if err != nil {
		return nil, err
	}
	vals, err := hs.codecOn(L, host).decodeAll(L, r.Results)
	if err != nil {
		return nil, fmt.Errorf("host %s: its answer to %s: %v", host, m.Method, err)
	}
	return vals, nil
}

// raw sends m and returns the reply as it came.
func (hs *hostSet) raw(L *lua.LState, host string, m *remote.Msg) (*remote.Msg, error) {
	r, err := hs.client(L, host).Request(ctxOf(L), m)
	if err != nil {
		return nil, fmt.Errorf("host %s: %v", host, err)
	}
	if r.Err != "" {
		return nil, fmt.Errorf("host %s: %s", host, r.Err)
	}
	return r, nil
}

// add is ns.add(name, opts) on host: the namespace is made by its agent
// (opts without host), and a proxy of it comes back.
func (hs *hostSet) add(L *lua.LState, host, name string, opts lua.LValue) lua.LValue {
	args := []lua.LValue{lua.LString(name)}
	if t, ok := opts.(*lua.LTable); ok {
		rest := L.NewTable()
		t.ForEach(func(k, v lua.LValue) {
			if k.String() != "host" {
				rest.RawSet(k, v)
			}
		})
		args = append(args, rest)
	}
	hs.client(L, host)
	vals, err := hs.codecOn(L, host).encodeAll(args)
	if err != nil {
		L.RaiseError("ns.add(%q): %v cannot be passed to a namespace on host %s", name, err, host)
	}
	res := hs.request(L, host, &remote.Msg{Op: remote.OpCall, Method: "add", Args: vals})
	if len(res) != 1 {
		L.RaiseError("ns.add(%q): host %s gave %d values", name, host, len(res))
	}
	return res[0]
}

// hostsFromFile reaches the hosts a --hosts file names: a line per host,
// `NAME DESTINATION [underlay=DEV]`; # starts a comment.
func (rt *Runtime) hostsFromFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--hosts: %w", err)
	}
	var targets []remote.Target
	for i, line := range strings.Split(string(data), "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		tg, err := parseHostLine(f)
		if err != nil {
			return fmt.Errorf("--hosts %s:%d: %w", path, i+1, err)
		}
		tg.Config = rt.SSHConfig
		targets = append(targets, tg)
	}
	return rt.hostSet().connect(context.Background(), targets)
}

func parseHostLine(f []string) (remote.Target, error) {
	if len(f) < 2 {
		return remote.Target{}, errors.New("want NAME DESTINATION [underlay=DEV]")
	}
	tg := remote.Target{Name: f[0], SSH: f[1]}
	for _, kv := range f[2:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k != "underlay" {
			return tg, fmt.Errorf("%q: want underlay=DEV", kv)
		}
		tg.Underlay = v
	}
	if err := checkName(tg.Name); err != nil {
		return tg, fmt.Errorf("host name %v", err)
	}
	return tg, checkTarget(tg)
}

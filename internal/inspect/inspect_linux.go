package inspect

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/nslua/nslua/internal/nsfs"
	"golang.org/x/sys/unix"
)

// target is a namespace to inspect.
type target struct{ name, path string }

// Namespace inspects the namespace at path (a pin such as /run/netns/NAME,
// or any nsfs path such as /proc/PID/ns/net) and reports it as name.
func Namespace(name, path string, opts Options) (*Info, error) {
	infos, err := inspect(opts, []target{{name, path}}, false, false)
	if err != nil {
		return nil, err
	}
	return infos[0], nil
}

// Host inspects the namespace this process runs in, named "host": that of
// the calling thread, since the main thread may have been parked in
// another one (see openHost). Its Path is that thread's
// /proc/PID/task/TID/ns/net, valid while the thread lives.
func Host(opts Options) (*Info, error) {
	infos, err := inspect(opts, nil, true, false)
	if err != nil {
		return nil, fmt.Errorf("inspect host: %w", err)
	}
	return infos[0], nil
}

// All inspects every namespace pinned in /run/netns, sorted by name. A pin
// removed while it runs, or one that is not a namespace (an interrupted
// `ip netns add`), is left out: the listing describes namespaces.
func All(opts Options) ([]*Info, error) {
	names, err := nsfs.List()
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	targets := make([]target, len(names))
	for i, n := range names {
		targets[i] = target{n, nsfs.PinPath(n)}
	}
	return inspect(opts, targets, false, true)
}

// inspect opens every target (and the host, always: veth peers there are
// named "host"), then resolves what needs all of them at once.
func inspect(opts Options, targets []target, withHost, skipGone bool) ([]*Info, error) {
	w, err := newWorld()
	if err != nil {
		return nil, err
	}
	defer w.close()
	var done []*snapshot
	if withHost {
		if err := w.host.buildInfo("host", ""); err != nil {
			return nil, err
		}
		done = append(done, w.host)
	}
	snaps, errs := openTargets(targets)
	for _, s := range snaps {
		if s != nil {
			w.add(s)
		}
	}
	for i, err := range errs {
		if skipGone && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNotNetns)) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("inspect %q: %w", targets[i].name, err)
		}
		done = append(done, snaps[i])
	}
	infos := make([]*Info, 0, len(done))
	for _, s := range done {
		if err := w.complete(s, opts); err != nil {
			return nil, fmt.Errorf("inspect %q: %w", s.info.Name, err)
		}
		infos = append(infos, s.info)
	}
	return infos, nil
}

// complete fills in what depends on other namespaces or on the process
// table: veth peers, processes, netnsid, lab.
func (w *world) complete(s *snapshot, opts Options) error {
	if err := w.resolvePeers(s); err != nil {
		return err
	}
	procs, err := w.procTable()
	if err != nil {
		return err
	}
	s.info.Procs = procsOf(procs[s.inode])
	ownSockets(s.info.Listen, s.sockIno, procs[s.inode])
	if s.inode != w.host.inode {
		id, err := w.host.h.GetNetNsIdByFd(s.fd)
		if err != nil {
			return fmt.Errorf("netnsid of %s in the host: %w", s.path, err)
		}
		if id >= 0 {
			s.info.NetnsID = &id
		}
	}
	s.info.Lab = opts.owner(s.inode)
	if opts.Private != nil && s.inode != w.host.inode {
		s.info.Private = opts.Private(s.info.Name, s.inode)
	}
	return nil
}

// openTargets opens and dumps the targets a few at a time: the work is
// system calls, thread switches into namespaces and netlink round trips,
// which overlap well. The results are in the order of targets.
func openTargets(targets []target) ([]*snapshot, []error) {
	snaps := make([]*snapshot, len(targets))
	errs := make([]error, len(targets))
	// The workers take the next target themselves: the caller may be a
	// goroutine locked to its thread (nslua's main one is), and each time
	// such a goroutine blocks, its thread hands its P over and sleeps;
	// handing out 1000 targets one by one from it took a tenth of the CPU.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(targets), 2*runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // never unlocked: the thread joins namespaces
			for i := int(next.Add(1) - 1); i < len(targets); i = int(next.Add(1) - 1) {
				snaps[i], errs[i] = openTarget(targets[i], doHere)
			}
		}()
	}
	wg.Wait()
	return snaps, errs
}

func openTarget(t target, do doer) (*snapshot, error) {
	s, err := openSnapshot(t.path, t.name, true, do)
	if err != nil {
		return nil, err
	}
	if err := s.buildInfo(t.name, t.name); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// doHere joins the namespace on the calling thread, which must be locked
// to its goroutine for good (see openTargets), and runs fn there.
func doHere(nsFd int, fn func() error) error {
	if err := unix.Setns(nsFd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns: %w", err)
	}
	return fn()
}

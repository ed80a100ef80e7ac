package lab

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/journal"
	"github.com/nslua/nslua/internal/nsfs"
)

// undoer removes journaled resources. The same code serves a run's own
// teardown and `nslua down` after a crash: the journal is the only truth.
type undoer struct {
	lab     string // the lab's name, for the other hosts' parts
	run     string // the NSLUA_RUN marker of the run's processes ("" = none)
	runNs   uint64 // only marked processes in this namespace (0 = anywhere)
	log     io.Writer
	verbose bool // say each thing removed (down -v), not only what failed
	errs    []error
	kind    journal.Kind         // the kind of entry being undone, for counting
	counts  map[journal.Kind]int // things removed, by kind
	slot    int                  // the worker of undoPins running this one
}

// did reports a step. "removed ..." and "stopped/killed pid ..." are
// counted by kind and printed only when verbose; anything else ("left ...:
// it is not ours") is always worth saying.
func (u *undoer) did(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	counted := strings.HasPrefix(msg, "removed ") || strings.HasPrefix(msg, "stopped pid ")
	if counted {
		if u.counts == nil {
			u.counts = map[journal.Kind]int{}
		}
		u.counts[u.kind]++
	}
	if u.verbose || !counted && !strings.HasPrefix(msg, "killed pid ") {
		fmt.Fprintf(u.log, "  %s\n", msg)
	}
}

func (u *undoer) fail(err error) {
	fmt.Fprintf(u.log, "nslua: teardown: %v\n", err)
	u.errs = append(u.errs, err)
}

// undoAll removes entries, given newest first. Processes go first, all at
// once (everything else may be in use by them), then the rest in reverse
// order of creation.
func undoAll(entries []*journal.Entry, l *Lab, log io.Writer) []error {
	u := &undoer{lab: l.Name, log: log, run: l.markerIfStarted()}
	return u.undo(entries, l.j)
}

// undo removes entries, marking each gone in j (nil: none) as soon as it
// is: a teardown or down cut short never redoes a step. A step that finds
// what it would remove already gone (a backup restored by a down that was
// killed before it wrote so) counts as done.
func (u *undoer) undo(entries []*journal.Entry, j *journal.Journal) []error {
	u.kind = journal.KindProc
	u.stopProcesses(entries)
	for _, e := range entries {
		if e.Kind == journal.KindCgroup { // right after its processes
			u.kind = e.Kind
			if err := u.removeCgroup(e); err != nil {
				u.fail(err)
			} else if j != nil {
				j.Gone(e)
			}
		}
	}
	entries = u.quiesceBridges(entries, j)
	for i := 0; i < len(entries); i++ {
		e := entries[i]
		if isPin(e) {
			end := i + 1
			for end < len(entries) && isPin(entries[end]) {
				end++
			}
			u.undoPins(entries[i:end], j)
			i = end - 1
			continue
		}
		var err error
		u.kind = e.Kind
		switch e.Kind {
		case journal.KindCgroup:
			continue
		case journal.KindLink:
			err = u.removeLink(e)
		case journal.KindNft:
			err = u.removeNft(e)
		case journal.KindQdisc:
			err = u.removeQdisc(e)
		case journal.KindEtcFile:
			err = u.removeEtcFile(e)
		case journal.KindEtcDir:
			u.removeEtcDir(e)
		case journal.KindHost:
			err = u.downHost(e)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			u.fail(err)
			continue
		}
		if j != nil {
			j.Gone(e)
		}
	}
	return u.errs
}

// quiesceBridges makes the lab's bridges drop every frame before anything
// is removed. A big star's bridge floods its leaves' IPv6 start-up chatter
// (router solicitations, MLD reports, DAD) to all its ports for seconds
// after it comes up, and every leaf takes each frame in: a down in that
// storm competed with it (perf: br_flood, veth_xmit, ipv6_chk_mcast_addr),
// and a 4096-leaf star took 8.8 s to go. Setting the bridge down would walk
// all its ports for each port (STP's state selection), quadratic again; a
// bridge-family nftables chain that drops at prerouting is one request per
// namespace. The namespace is checked by inode; the chain goes with it.
//
// It returns the other entries: a bridge's has nothing left to undo, and
// between two namespaces' it would cut their run in two (undoPins holds
// the namespaces of one run until all are unpinned).
func (u *undoer) quiesceBridges(entries []*journal.Entry, j *journal.Journal) []*journal.Entry {
	seen := map[uint64]bool{}
	rest := entries[:0:0]
	for _, e := range entries {
		if e.Kind != journal.KindBridge {
			rest = append(rest, e)
			continue
		}
		if e.Done && !seen[e.NsIno] {
			seen[e.NsIno] = true
			if ino, err := nsfs.Inode(e.NsPath); err == nil && ino == e.NsIno {
				nsfs.DoPath(e.NsPath, dropBridged) // a kernel without nft's bridge family: the storm goes on
			}
		}
		if j != nil {
			j.Gone(e)
		}
	}
	return rest
}

// dropBridged adds a chain that drops every bridged frame on arrival.
func dropBridged() error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	drop := nftables.ChainPolicyDrop
	t := c.AddTable(&nftables.Table{Name: "nslua_teardown", Family: nftables.TableFamilyBridge})
	c.AddChain(&nftables.Chain{Name: "quiesce", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityFirst, Policy: &drop})
	return c.Flush()
}

// summary is one line of what was removed: "removed 3 namespaces, 2 links".
func (u *undoer) summary() string {
	var parts []string
	for _, k := range []struct {
		kind      journal.Kind
		one, many string
	}{
		{journal.KindNetns, "namespace", "namespaces"}, {journal.KindPin, "pin", "pins"},
		{journal.KindLink, "link", "links"}, {journal.KindProc, "process", "processes"},
		{journal.KindEtcFile, "/etc/netns file", "/etc/netns files"},
		{journal.KindEtcDir, "/etc/netns directory", "/etc/netns directories"},
		{journal.KindCgroup, "cgroup", "cgroups"},
		{journal.KindNft, "nftables table", "nftables tables"},
		{journal.KindQdisc, "link shaping", "link shapings"},
		{journal.KindHost, "other host's part", "other hosts' parts"},
	} {
		switch n := u.counts[k.kind]; n {
		case 0:
		case 1:
			parts = append(parts, "1 "+k.one)
		default:
			parts = append(parts, fmt.Sprintf("%d %s", n, k.many))
		}
	}
	if len(parts) == 0 {
		return "nothing was left to remove"
	}
	return "removed " + strings.Join(parts, ", ")
}

func (u *undoer) unpin(e *journal.Entry) error {
	path := nsfs.PinPath(e.Name)
	info, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil && !nsfs.IsPinned(path) {
		// Not mounted: the empty file of an unpin (or an add) cut short
		// between its steps; `ip netns add NAME` would fail on it.
		if !info.Mode().IsRegular() || info.Size() != 0 {
			u.did("left %s: not an empty file", path)
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		u.did("removed namespace %s (the empty file of an unfinished unpin)", e.Name)
		return nil
	}
	if e.Done {
		if ino, err := nsfs.Inode(path); err == nil && ino != e.Inode {
			u.did("left %s: it is another namespace now (inode %d, ours was %d)", path, ino, e.Inode)
			return nil
		}
	}
	if err := nsfs.Unpin(e.Name); err != nil {
		return err
	}
	u.did("removed namespace %s", e.Name)
	return nil
}

// removeLink finds the link by the index it was given, in the namespace
// it was made in (checked by inode): `ip link set NAME name OTHER` during
// the run does not hide it. The index is the link's identity: the kernel
// hands indexes out cyclically, so it does not give a deleted link's index
// to another before 2^31 more links.
func (u *undoer) removeLink(e *journal.Entry) error {
	h, err := handleFor(e)
	if err != nil || h == nil {
		return err // the namespace is gone, and its links with it
	}
	defer h.Close()
	link, err := h.LinkByName(e.Name)
	if e.Done && e.Index > 0 && (err != nil || link.Attrs().Index != e.Index) {
		link, err = h.LinkByIndex(e.Index)
	}
	if err != nil {
		return nil // already gone (a veth dies with its peer's namespace)
	}
	if e.Done && link.Attrs().Index != e.Index {
		u.did("left link %s: it is not the one this lab made", e.Name)
		return nil
	}
	if err := h.LinkDel(link); err != nil {
		return fmt.Errorf("delete link %s: %w", link.Attrs().Name, err)
	}
	if name := link.Attrs().Name; name != e.Name {
		u.did("removed link %s (made as %s)", name, e.Name)
	} else {
		u.did("removed link %s", e.Name)
	}
	return nil
}

// handleFor opens a netlink handle in the namespace of a link entry; nil
// when that namespace no longer is the one recorded.
func handleFor(e *journal.Entry) (*netlink.Handle, error) {
	if e.NsPath == "" {
		return netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	if ino, err := nsfs.Inode(e.NsPath); err != nil || ino != e.NsIno {
		return nil, nil
	}
	fd, err := unix.Open(e.NsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil
	}
	defer unix.Close(fd)
	return nsfs.HandleAt(fd)
}

// ErrNoLab is returned by Down for a lab that has no state at all.
var ErrNoLab = errors.New("no such lab")

// Down removes what the journal of lab name lists, marking each thing gone
// as it goes: a down that is killed half-way leaves a journal that the next
// one finishes. It prints one summary line on out (every step with
// verbose). A lab with a directory but nothing to remove is not an error;
// a lab with no directory is ErrNoLab.
func Down(name string, out io.Writer, verbose bool) error {
	if err := journal.ValidateLabName(name); err != nil {
		return err
	}
	if !exists(journal.Dir(name)) && !exists(journal.PersistDir(name)) {
		return fmt.Errorf("lab %q: %w (`nslua ls` lists the labs)", name, ErrNoLab)
	}
	lock, err := journal.Lock(name)
	if err != nil {
		return err
	}
	defer lock.Close()
	st, err := journal.Read(name)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(out, "lab %s: nothing to remove\n", name)
		return journal.RemoveDir(name)
	}
	if err != nil {
		return fmt.Errorf("lab %q: read journal: %w", name, err)
	}
	j, err := journal.Reopen(name, st)
	if err != nil {
		return err
	}
	defer j.CloseFile()
	if verbose {
		fmt.Fprintf(out, "lab %s:\n", name)
	}
	u := &undoer{lab: name, log: out, verbose: verbose, run: marker(st)}
	errs := u.undo(st.Live(), j)
	fmt.Fprintf(out, "lab %s: %s\n", name, u.summary())
	if len(errs) > 0 {
		return fmt.Errorf("lab %q: %w", name, errors.Join(errs...))
	}
	return journal.RemoveDir(name)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, os.ErrNotExist)
}

package sys

import "sync"

// The subreaper (luabind's run) collects orphans that become this
// process's children, but must never wait for a child that Go started
// itself: os/exec's Wait would then find nothing (ECHILD) and lose the
// exit status. StartChild and Reap exclude each other, so that a child is
// known as Go's before the reaper can see it exit.
var (
	startOrReap sync.RWMutex // read: starting children; write: reaping
	ownMu       sync.Mutex
	own         = map[int]bool{}
)

// StartChild runs start (an exec.Cmd's Start) and records the PID it
// returns as a child that its starter waits for.
func StartChild(start func() (pid int, err error)) error {
	startOrReap.RLock()
	defer startOrReap.RUnlock()
	pid, err := start()
	if err == nil && pid > 0 {
		ownMu.Lock()
		own[pid] = true
		ownMu.Unlock()
	}
	return err
}

// ForgetChild is called once the starter has waited for pid.
func ForgetChild(pid int) {
	ownMu.Lock()
	delete(own, pid)
	ownMu.Unlock()
}

// Reap runs reap with no child being started, passing whether a PID is a
// child that its starter waits for (not the reaper's to collect).
func Reap(reap func(isOwn func(pid int) bool)) {
	startOrReap.Lock()
	defer startOrReap.Unlock()
	ownMu.Lock()
	defer ownMu.Unlock()
	reap(func(pid int) bool { return own[pid] })
}

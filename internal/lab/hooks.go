package lab

// OnClose registers fn to run when the lab closes, before anything is
// torn down (and also when it is kept): captures stop there, so that they
// flush what they saw while the links still exist. The newest runs first.
func (l *Lab) OnClose(fn func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closers = append(l.closers, fn)
}

func runClosers(fns []func()) {
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

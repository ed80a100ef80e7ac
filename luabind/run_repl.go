package luabind

import (
	"context"
	"errors"
	"syscall"

	"github.com/nslua/nslua/internal/lab"
	"github.com/nslua/nslua/internal/repl"
)

// REPL runs the read-eval-print loop on the run's Lua state until end of
// input, Ctrl-D, or a signal that stops the run. Ctrl-C cancels the
// running statement; with a non-terminal stdin it ends the run, as for
// `sh < file`. cfg.Interrupts and cfg.Names are filled in here.
func (r *Run) REPL(cfg repl.Config) error {
	ctx, done := r.phase(context.Background())
	defer done()
	if r.sigs != nil {
		interrupts := make(chan struct{}, 1)
		r.sigs.setInterrupts(interrupts)
		defer r.sigs.setInterrupts(nil)
		cfg.Interrupts = interrupts
	}
	if cfg.Names == nil {
		cfg.Names = func() []string { names, _ := lab.List(); return names }
	}
	r.L.SetContext(ctx)
	defer r.L.RemoveContext()
	err := repl.Run(r.L, cfg)
	if errors.Is(err, repl.ErrInterrupted) {
		r.stop(&stopError{"interrupted by interrupt"}, syscall.SIGINT)
		return nil
	}
	if err != nil && IsStop(err) {
		return nil // Finish says why
	}
	return err
}

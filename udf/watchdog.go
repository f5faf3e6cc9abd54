package udf

import (
	"sync"
	"time"
)

// watchdog enforces a host's deadline the way Wasmtime's epoch
// interruption does: this goroutine sets the interrupt global
// (instrument.go) of the instances that ran too long, and an instrumented
// module's loops, which count down fuel for the price of a load, a store
// and a branch instead of wazero's call to a trampoline, look at it every
// 65536 iterations (through memory.grow 0, where Go can also preempt the
// guest) and trap.
// Calls pay a monotonic clock read, two atomic stores and an uncontended
// lock; a runaway call stops within its deadline plus one tick, never
// before it.
type watchdog struct {
	period   time.Duration
	deadline time.Duration
	base     time.Time // call start times are monotonic offsets from base

	mu     sync.Mutex
	active map[*instance]struct{}

	stop chan struct{}
	done chan struct{}
}

func newWatchdog(deadline time.Duration) *watchdog {
	period := min(max(deadline/20, time.Millisecond), 10*time.Millisecond)
	w := &watchdog{period: period, deadline: deadline, base: time.Now(), active: map[*instance]struct{}{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *watchdog) run() {
	defer close(w.done)
	t := time.NewTicker(w.period)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		now := w.now()
		w.mu.Lock()
		for inst := range w.active {
			if s := inst.started.Load(); s != 0 && now-s >= int64(w.deadline) && !inst.fired {
				inst.fired = true
				inst.intr.Set(1)
			}
		}
		w.mu.Unlock()
	}
}

// add watches an instance for as long as it lives.
func (w *watchdog) add(inst *instance) {
	w.mu.Lock()
	w.active[inst] = struct{}{}
	w.mu.Unlock()
}

// remove stops watching an instance (it is being closed).
func (w *watchdog) remove(inst *instance) {
	w.mu.Lock()
	delete(w.active, inst)
	w.mu.Unlock()
}

// now is the monotonic time since the watchdog started, never 0.
func (w *watchdog) now() int64 { return int64(time.Since(w.base)) + 1 }

// begin marks the start of a call on inst.
func (w *watchdog) begin(inst *instance) { inst.started.Store(w.now()) }

// end marks the end of a call and reports whether the watchdog
// interrupted it. An interrupt that lands as the call returns is undone, so
// the instance's next call does not trap.
func (w *watchdog) end(inst *instance) (fired bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	inst.started.Store(0)
	fired, inst.fired = inst.fired, false
	if fired {
		inst.intr.Set(0)
	}
	return fired
}

// close stops the goroutine.
func (w *watchdog) close() {
	close(w.stop)
	<-w.done
}

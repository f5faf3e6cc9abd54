package engine

import (
	"maps"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stratadb/strata/engine/core"
)

// Metrics is a snapshot of the engine's counters since the process
// started, for monitoring (cmd/strata renders it for Prometheus).
type Metrics struct {
	Epoch            core.Epoch // last epoch committed to every backend
	Epochs           int64      // epochs run by this process, replays excluded
	EpochSeconds     float64    // time spent running those epochs
	LastEpochSeconds float64
	DeadLetters      int64
	Sources          map[string]SourceMetrics
	Backends         map[string]BackendMetrics
	Views            map[string]int64 // changelog rows each view emitted
}

// SourceMetrics are one source's counters.
type SourceMetrics struct {
	Records   int64
	Watermark int64 // µs since the Unix epoch; NoWatermark when none
}

// BackendMetrics are one backend's counters.
type BackendMetrics struct {
	Applies      int64
	ApplySeconds float64
}

// metrics accumulates what an epoch measured; one lock per epoch.
type metrics struct {
	mu sync.Mutex
	m  Metrics
}

func newMetrics() *metrics {
	return &metrics{m: Metrics{Sources: map[string]SourceMetrics{}, Backends: map[string]BackendMetrics{}, Views: map[string]int64{}}}
}

// epochSample is what one epoch measured.
type epochSample struct {
	dur     time.Duration
	records map[string]int64
	apply   map[string]time.Duration
	out     map[string][]arrow.RecordBatch
}

func (m *metrics) record(s epochSample, dead int64, wm map[string]int64, ep core.Epoch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m.Epoch = ep
	m.m.Epochs++
	m.m.EpochSeconds += s.dur.Seconds()
	m.m.LastEpochSeconds = s.dur.Seconds()
	m.m.DeadLetters += dead
	for src, n := range s.records {
		sm := m.m.Sources[src]
		sm.Records += n
		m.m.Sources[src] = sm
	}
	for src, w := range wm {
		sm := m.m.Sources[src]
		sm.Watermark = w
		m.m.Sources[src] = sm
	}
	for b, d := range s.apply {
		bm := m.m.Backends[b]
		bm.Applies++
		bm.ApplySeconds += d.Seconds()
		m.m.Backends[b] = bm
	}
	for v, bs := range s.out {
		for _, b := range bs {
			m.m.Views[v] += b.NumRows()
		}
	}
}

func (m *metrics) snapshot() Metrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.m
	out.Sources = maps.Clone(m.m.Sources)
	out.Backends = maps.Clone(m.m.Backends)
	out.Views = maps.Clone(m.m.Views)
	return out
}

// Metrics returns a snapshot of the engine's counters. It is safe to call
// concurrently with Run.
func (e *Engine) Metrics() Metrics { return e.metrics.snapshot() }

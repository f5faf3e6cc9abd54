package nexmark

import (
	"slices"
	"time"
)

// Latencies collects event-to-view latencies an epoch at a time. The events
// of one epoch fell due one after the other at a constant rate and were
// committed together, so their latencies are spread evenly between the
// newest event's and the oldest's: an epoch adds one segment [lo, hi]
// holding n events, and quantiles are exact over the events, not over
// epochs.
type Latencies struct {
	segs  []segment
	total int64
}

type segment struct {
	lo, hi time.Duration
	n      int64
}

// Add records n events whose latencies are spread evenly over [lo, hi].
func (l *Latencies) Add(lo, hi time.Duration, n int64) {
	if n <= 0 {
		return
	}
	if hi < lo {
		lo, hi = hi, lo
	}
	l.segs = append(l.segs, segment{lo, hi, n})
	l.total += n
}

// Count returns the number of events recorded.
func (l *Latencies) Count() int64 { return l.total }

// below returns how many events have a latency of at most d.
func (l *Latencies) below(d time.Duration) float64 {
	var c float64
	for _, s := range l.segs {
		switch {
		case d >= s.hi:
			c += float64(s.n)
		case d < s.lo:
		default:
			c += float64(s.n) * float64(d-s.lo) / float64(s.hi-s.lo)
		}
	}
	return c
}

// Quantile returns the latency below which a fraction q of the events
// fall (0 when none were recorded).
func (l *Latencies) Quantile(q float64) time.Duration {
	if l.total == 0 {
		return 0
	}
	lo, hi := l.segs[0].lo, l.segs[0].hi
	for _, s := range l.segs {
		lo, hi = min(lo, s.lo), max(hi, s.hi)
	}
	want := q * float64(l.total)
	for hi-lo > time.Microsecond {
		mid := lo + (hi-lo)/2
		if l.below(mid) >= want {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// Max returns the largest latency recorded.
func (l *Latencies) Max() time.Duration {
	his := make([]time.Duration, len(l.segs))
	for i, s := range l.segs {
		his[i] = s.hi
	}
	if len(his) == 0 {
		return 0
	}
	return slices.Max(his)
}

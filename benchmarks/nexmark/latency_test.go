package nexmark

import (
	"testing"
	"time"
)

func TestLatencies(t *testing.T) {
	t.Parallel()
	var l Latencies
	if l.Quantile(0.99) != 0 || l.Count() != 0 {
		t.Fatal("an empty recorder has no latency")
	}
	// 100 events spread over 0..100ms, then 100 events all at 1s.
	l.Add(0, 100*time.Millisecond, 100)
	l.Add(time.Second, time.Second, 100)
	near := func(got, want time.Duration) bool {
		d := got - want
		return d < 10*time.Microsecond && d > -10*time.Microsecond
	}
	if got := l.Quantile(0.25); !near(got, 50*time.Millisecond) {
		t.Errorf("p25 = %v, want 50ms", got)
	}
	if got := l.Quantile(0.5); !near(got, 100*time.Millisecond) {
		t.Errorf("p50 = %v, want 100ms", got)
	}
	if got := l.Quantile(0.99); !near(got, time.Second) {
		t.Errorf("p99 = %v, want 1s", got)
	}
	if l.Count() != 200 || l.Max() != time.Second {
		t.Errorf("count %d max %v, want 200 and 1s", l.Count(), l.Max())
	}
	l.Add(time.Millisecond, 0, 0) // nothing to add
	if l.Count() != 200 {
		t.Errorf("adding no events changed the count to %d", l.Count())
	}
}

package connect

import (
	"context"
	"time"
)

// PaceWait bounds how long Pacer.Due waits for the next position to fall
// due, so a paced source's Next returns promptly (possibly empty).
const PaceWait = 50 * time.Millisecond

// Pacer releases positions (rows, events) at Rate per second, counted from
// the first Due after Reset: the generators' `rate` option. Now is the
// clock (time.Now; tests swap it). The zero Pacer with a Rate is ready.
type Pacer struct {
	Rate int64
	Now  func() time.Time
	from time.Time // when pacing started; zero before
	pos  int64     // the position at from
}

// Reset restarts pacing at the next Due (after a Seek).
func (p *Pacer) Reset() { p.from = time.Time{} }

// Due returns the position before which every position is due, pacing from
// pos on its first call. When nothing past pos is due yet it waits for the
// next one, at most PaceWait, and answers again.
func (p *Pacer) Due(ctx context.Context, pos int64) (int64, error) {
	if p.from.IsZero() {
		p.from, p.pos = p.Now(), pos
	}
	due := p.due()
	if due > pos {
		return due, nil
	}
	t := time.NewTimer(min(p.untilDue(pos+1), PaceWait))
	select {
	case <-ctx.Done():
		t.Stop()
		return 0, ctx.Err()
	case <-t.C:
	}
	return p.due(), nil
}

func (p *Pacer) due() int64 {
	el := max(p.Now().Sub(p.from), 0)
	sec, frac := int64(el/time.Second), int64(el%time.Second)
	return p.pos + sec*p.Rate + frac*p.Rate/int64(time.Second)
}

// untilDue returns how long until position pos-1 falls due, so due() >= pos.
func (p *Pacer) untilDue(pos int64) time.Duration {
	n := pos - p.pos
	at := time.Duration(n/p.Rate)*time.Second + time.Duration((n%p.Rate)*int64(time.Second)/p.Rate)
	return max(at-p.Now().Sub(p.from), time.Millisecond)
}

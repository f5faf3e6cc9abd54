package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stratadb/strata/engine/core"
)

// partRange is one partition's range of a Read.
type partRange struct {
	p int32
	r core.Range
}

// Read implements core.Source. Partitions are read in ascending numeric
// order, each in offset order; control records (transaction markers) take
// up positions but yield no row. Ranges that Next proposed on this source
// are decoded from memory; any other range is fetched again from the broker
// (replay after a restart).
func (s *source) Read(ctx context.Context, ranges core.Ranges, emit func(arrow.RecordBatch) error) ([]core.DeadLetter, error) {
	if s.done {
		return nil, ErrClosed
	}
	var prs []partRange
	for name, r := range ranges {
		if r.Empty() {
			continue
		}
		p, err := parsePartition(name)
		if err != nil {
			return nil, fmt.Errorf("kafka: read topic %q: %w", s.topic, err)
		}
		if r.From < 0 {
			return nil, fmt.Errorf("kafka: read topic %q partition %d: negative offset %d", s.topic, p, r.From)
		}
		prs = append(prs, partRange{p, r})
	}
	sort.Slice(prs, func(i, j int) bool { return prs[i].p < prs[j].p })

	recs := make(map[int32][]*kgo.Record, len(prs))
	var replay []partRange
	for _, pr := range prs {
		if rs, ok := s.fromPending(pr); ok {
			recs[pr.p] = rs
		} else {
			replay = append(replay, pr)
		}
	}
	if len(replay) > 0 {
		if err := s.replay(ctx, replay, recs); err != nil {
			return nil, err
		}
	}

	var dls []core.DeadLetter
	flush := func() error {
		b := s.dec.Flush()
		if b == nil {
			return nil
		}
		defer b.Release()
		return emit(b)
	}
	for _, pr := range prs {
		part := strconv.Itoa(int(pr.p))
		for _, r := range recs[pr.p] {
			if r.Attrs.IsControl() {
				continue
			}
			if r.Value == nil {
				dls = append(dls, core.DeadLetter{Source: s.cfg.Name, Partition: part, Offset: r.Offset, Reason: "null value"})
				continue
			}
			if err := s.dec.Append(r.Value); err != nil {
				dls = append(dls, core.DeadLetter{Source: s.cfg.Name, Partition: part, Offset: r.Offset, Reason: err.Error(), Raw: r.Value})
				continue
			}
			if s.dec.Len() >= s.cfg.BatchRows {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	// What was read from memory is done with: later reads of it replay.
	for _, pr := range prs {
		if pd := s.pend[pr.p]; pd != nil && pr.r.To > pd.lo && pr.r.From <= pd.lo {
			i, _ := slices.BinarySearchFunc(pd.recs, pr.r.To, cmpOffset)
			pd.recs = slices.Delete(pd.recs, 0, i)
			pd.lo = pr.r.To
		}
	}
	return dls, nil
}

func cmpOffset(r *kgo.Record, off int64) int {
	switch {
	case r.Offset < off:
		return -1
	case r.Offset > off:
		return 1
	}
	return 0
}

// fromPending returns the records of pr if Next proposed all of them on this
// source and they are still held.
func (s *source) fromPending(pr partRange) ([]*kgo.Record, bool) {
	pd := s.pend[pr.p]
	if pd == nil || pr.r.From < pd.lo || pr.r.To > s.pos[pr.p] {
		return nil, false
	}
	i, _ := slices.BinarySearchFunc(pd.recs, pr.r.From, cmpOffset)
	j, _ := slices.BinarySearchFunc(pd.recs, pr.r.To, cmpOffset)
	return pd.recs[i:j], true
}

// replay fetches the records of prs from the broker into recs. Each
// partition is consumed from its range's start until a record at or past
// the range's last offset arrives, or the partition's end when the range
// reaches past it. Offsets may have gaps (compaction, aborted transactions);
// a partition that delivers nothing new for replay_timeout fails the read
// rather than return a range partially.
func (s *source) replay(ctx context.Context, prs []partRange, recs map[int32][]*kgo.Record) error {
	lctx, cancel := context.WithTimeout(ctx, openTimeout)
	ends, err := s.adm.ListEndOffsets(lctx, s.topic)
	cancel()
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("kafka: replay topic %q: list end offsets on %s: %w", s.topic, s.brokerList(), err)
	}
	target := map[int32]int64{} // per partition still to read: stop at this offset
	offs := map[int32]kgo.Offset{}
	for _, pr := range prs {
		end := pr.r.To
		if e, ok := ends.Lookup(s.topic, pr.p); ok {
			end = min(end, e.Offset)
		} else {
			return fmt.Errorf("kafka: replay topic %q partition %d: the partition does not exist on %s", s.topic, pr.p, s.brokerList())
		}
		if end <= pr.r.From {
			continue
		}
		target[pr.p] = end
		offs[pr.p] = kgo.NewOffset().At(pr.r.From)
	}
	if len(target) == 0 {
		return nil
	}
	from := map[int32]int64{}
	for _, pr := range prs {
		from[pr.p] = pr.r.From
	}
	cl, err := kgo.NewClient(s.consumerOpts(offs)...)
	if err != nil {
		return fmt.Errorf("kafka: replay topic %q: %w", s.topic, err)
	}
	defer cl.Close()
	progress := time.Now()
	for len(target) > 0 {
		pctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
		fs := cl.PollFetches(pctx)
		cancel()
		got := false
		fs.EachPartition(func(fp kgo.FetchTopicPartition) {
			end, ok := target[fp.Partition]
			if fp.Topic != s.topic || !ok {
				return
			}
			for _, r := range fp.Records {
				if r.Offset < from[fp.Partition] {
					continue
				}
				if r.Offset >= end {
					delete(target, fp.Partition)
					break
				}
				recs[fp.Partition] = append(recs[fp.Partition], r)
				got = true
				if r.Offset >= end-1 {
					delete(target, fp.Partition)
					break
				}
			}
		})
		var ferr error
		fs.EachError(func(topic string, p int32, err error) {
			if ferr != nil || topic == "" && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
				return
			}
			ferr = fmt.Errorf("kafka: replay topic %q partition %d: %w", s.topic, p, err)
		})
		if ferr != nil {
			return ferr
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("kafka: replay topic %q: %w", s.topic, err)
		}
		if got {
			progress = time.Now()
		} else if time.Since(progress) > s.replayTO {
			for p, end := range target {
				at := from[p]
				if rs := recs[p]; len(rs) > 0 {
					at = rs[len(rs)-1].Offset + 1
				}
				return fmt.Errorf("kafka: replay topic %q partition %d: no record at or after offset %d (want up to %d) for %v", s.topic, p, at, end, s.replayTO)
			}
		}
	}
	return nil
}

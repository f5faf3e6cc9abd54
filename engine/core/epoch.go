package core

import (
	"encoding/json"
	"sort"
)

// Epoch numbers a unit of progress. Epoch 0 means "nothing committed"; the
// first epoch a deployment runs is 1.
type Epoch uint64

// Range is the half-open range [From, To) of positions one partition of a
// source is read over in one epoch. Positions are source-specific: Kafka
// offsets, line numbers of a file (0-based), generated row numbers.
type Range struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// Empty reports whether the range holds no positions.
func (r Range) Empty() bool { return r.To <= r.From }

// Ranges maps a source's partitions (a Kafka partition number, a file path,
// "0" for a single-partition source) to the range read from each.
type Ranges map[string]Range

// Empty reports whether no partition has anything to read.
func (r Ranges) Empty() bool {
	for _, x := range r {
		if !x.Empty() {
			return false
		}
	}
	return true
}

// Partitions returns the partition names in sorted order, so iteration over
// Ranges is deterministic.
func (r Ranges) Partitions() []string {
	ps := make([]string, 0, len(r))
	for p := range r {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// Positions maps a source's partitions to the next position to read.
type Positions map[string]int64

// Offsets is what an epoch reads: for each source (by name), the ranges of its
// partitions. It is written to the epoch log before the epoch runs and
// recorded by every backend in the epoch's atomic commit.
type Offsets map[string]Ranges

// Sources returns the source names in sorted order.
func (o Offsets) Sources() []string {
	ss := make([]string, 0, len(o))
	for s := range o {
		ss = append(ss, s)
	}
	sort.Strings(ss)
	return ss
}

// End returns, per source, the position after each partition's range: where
// the next epoch starts.
func (o Offsets) End() map[string]Positions {
	out := make(map[string]Positions, len(o))
	for s, rs := range o {
		p := make(Positions, len(rs))
		for part, r := range rs {
			p[part] = r.To
		}
		out[s] = p
	}
	return out
}

// Marshal encodes offsets as JSON (keys sorted, so the encoding is stable).
func (o Offsets) Marshal() []byte {
	b, err := json.Marshal(o)
	if err != nil {
		// Offsets hold only strings and integers; Marshal cannot fail.
		panic(err)
	}
	return b
}

// UnmarshalOffsets decodes what Marshal wrote.
func UnmarshalOffsets(b []byte) (Offsets, error) {
	var o Offsets
	if len(b) == 0 {
		return Offsets{}, nil
	}
	err := json.Unmarshal(b, &o)
	return o, err
}

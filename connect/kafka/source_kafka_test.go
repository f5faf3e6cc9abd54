package kafka_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"

	"github.com/stratadb/strata/connect"
	_ "github.com/stratadb/strata/connect/kafka"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
	"github.com/stratadb/strata/internal/testutil/kafkatest"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

var cols = []core.Column{{Name: "id", Type: core.Bigint}, {Name: "name", Type: core.Varchar}}

const batchRows = 7

func openSource(t testing.TB, mem memory.Allocator, topic string, opts map[string]any) core.Source {
	t.Helper()
	return openSourceN(t, mem, topic, opts, batchRows)
}

func openSourceN(t testing.TB, mem memory.Allocator, topic string, opts map[string]any, batchRows int) core.Source {
	t.Helper()
	o := map[string]any{"brokers": []any{kafkatest.Addr(t)}, "topic": topic}
	for k, v := range opts {
		o[k] = v
	}
	src, err := connect.OpenSource(context.Background(), "kafka", connect.SourceConfig{
		Name: "events", Options: o, Format: "json", Columns: cols, Alloc: mem, BatchRows: batchRows,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// rows renders what Read emits, one "id/name" string a row, in order.
func read(t testing.TB, src core.Source, rs core.Ranges) ([]string, []core.DeadLetter) {
	t.Helper()
	var out []string
	dls, err := src.Read(context.Background(), rs, func(b arrow.RecordBatch) error {
		if err := core.CheckChangelog(b); err != nil {
			return err
		}
		if b.NumRows() > batchRows {
			t.Errorf("batch of %d rows, want at most %d", b.NumRows(), batchRows)
		}
		for i := 0; i < int(b.NumRows()); i++ {
			out = append(out, fmt.Sprintf("%s/%s", b.Column(0).ValueStr(i), b.Column(1).ValueStr(i)))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %v: %v", rs, err)
	}
	return out, dls
}

type epoch struct {
	ranges core.Ranges
	rows   []string
	dls    []core.DeadLetter
}

// drain runs Next/Read until want rows and dead letters arrived, checking
// that each partition's ranges continue where the last one ended.
func drain(t testing.TB, src core.Source, max, want int, pos core.Positions) []epoch {
	t.Helper()
	var eps []epoch
	n := 0
	deadline := time.Now().Add(20 * time.Second)
	for n < want {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d records after 20s", n, want)
		}
		rs, err := src.Next(context.Background(), max)
		if err != nil {
			t.Fatal(err)
		}
		if rs.Empty() {
			continue
		}
		total := 0
		for p, r := range rs {
			if from, ok := pos[p]; ok && r.From != from {
				t.Fatalf("partition %s: range %v does not start at the position %d", p, r, from)
			}
			pos[p] = r.To
			total += int(r.To - r.From)
		}
		if max > 0 && total > max {
			t.Fatalf("Next(%d) proposed %d offsets: %v", max, total, rs)
		}
		rows, dls := read(t, src, rs)
		n += len(rows) + len(dls)
		eps = append(eps, epoch{rs, rows, dls})
	}
	return eps
}

func rowsOf(eps []epoch) []string {
	var out []string
	for _, e := range eps {
		out = append(out, e.rows...)
	}
	return out
}

func line(id int) string { return fmt.Sprintf(`{"id":%d,"name":"n%d"}`, id, id) }

// fill writes per records to each of 3 partitions: partition 0 with kcat,
// the others with franz-go. Ids are unique across the topic.
func fill(t testing.TB, topic string, per, base int) []string {
	t.Helper()
	var want []string
	for p := 0; p < 3; p++ {
		var lines []string
		var vals [][]byte
		for i := 0; i < per; i++ {
			id := base + p*per + i
			lines = append(lines, line(id))
			vals = append(vals, []byte(line(id)))
			want = append(want, fmt.Sprintf("%d/n%d", id, id))
		}
		if p == 0 {
			kafkatest.KcatProduce(t, topic, p, lines)
		} else {
			kafkatest.Produce(t, topic, p, vals)
		}
	}
	return want
}

func sameSet(t *testing.T, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Fatalf("got %d rows, want %d (exactly once)\ngot  %v\nwant %v", len(g), len(w), g, w)
	}
}

func TestNextReadExactlyOnce(t *testing.T) {
	const topic = "exactly-once"
	kafkatest.CreateTopic(t, topic, 3)
	want := fill(t, topic, 20, 0)
	src := openSource(t, testutil.Alloc(t), topic, nil)
	if err := src.Seek(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	eps := drain(t, src, 9, len(want), core.Positions{})
	sameSet(t, rowsOf(eps), want)
	if src.Exhausted() {
		t.Fatal("an unbounded source reports Exhausted")
	}
	// Nothing more: Next is empty, and quickly.
	t0 := time.Now()
	if rs, err := src.Next(context.Background(), 0); err != nil || !rs.Empty() {
		t.Fatalf("Next after draining = %v, %v; want empty", rs, err)
	}
	if d := time.Since(t0); d > 400*time.Millisecond {
		t.Fatalf("empty Next took %v", d)
	}
}

// TestSeekResume logs the ranges of some epochs, reopens a new source at the
// logged positions and checks the rest arrives without loss or duplicates.
func TestSeekResume(t *testing.T) {
	const topic = "seek-resume"
	kafkatest.CreateTopic(t, topic, 3)
	want := fill(t, topic, 15, 0)
	ignore := goleak.IgnoreCurrent()
	mem := testutil.Alloc(t)

	a := openSource(t, mem, topic, nil)
	pos := core.Positions{}
	first := drain(t, a, 10, 20, pos)
	got := rowsOf(first)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	more := fill(t, topic, 5, 1000)
	want = append(want, more...)
	ignoreMore := goleak.IgnoreCurrent() // the producers fill used
	b := openSource(t, mem, topic, nil)
	if err := b.Seek(context.Background(), pos); err != nil {
		t.Fatal(err)
	}
	rest := drain(t, b, 0, len(want)-len(got), pos)
	got = append(got, rowsOf(rest)...)
	sameSet(t, got, want)
	b.Close()
	goleak.VerifyNone(t, ignore, ignoreMore)
}

// TestReplay reads logged ranges again on a fresh source, as recovery does,
// and checks rows and dead letters are identical.
func TestReplay(t *testing.T) {
	const topic = "replay"
	kafkatest.CreateTopic(t, topic, 3)
	want := fill(t, topic, 25, 0)
	kafkatest.Produce(t, topic, 2, [][]byte{[]byte("not json"), nil, []byte(line(999))})
	mem := testutil.Alloc(t)
	a := openSource(t, mem, topic, nil)
	eps := drain(t, a, 11, len(want)+3, core.Positions{})
	a.Close()

	b := openSource(t, mem, topic, nil)
	for i, e := range eps {
		rows, dls := read(t, b, e.ranges)
		if !slices.Equal(rows, e.rows) {
			t.Fatalf("epoch %d %v: replay gave\n%v\nwant\n%v", i, e.ranges, rows, e.rows)
		}
		if fmt.Sprint(dls) != fmt.Sprint(e.dls) {
			t.Fatalf("epoch %d %v: replay dead letters %v, want %v", i, e.ranges, dls, e.dls)
		}
	}
	// One Read over everything equals the concatenation in partition order.
	all := core.Ranges{}
	for _, e := range eps {
		for p, r := range e.ranges {
			x, ok := all[p]
			if !ok || r.From < x.From {
				x.From = r.From
			}
			x.To = max(x.To, r.To)
			all[p] = x
		}
	}
	rows, _ := read(t, b, all)
	sameSet(t, rows, append(want, "999/n999"))
	again, _ := read(t, b, all)
	if !slices.Equal(rows, again) {
		t.Fatal("two reads of the same ranges differ")
	}
}

func TestDeadLetters(t *testing.T) {
	const topic = "dead-letters"
	kafkatest.CreateTopic(t, topic, 3)
	kafkatest.KcatProduce(t, topic, 1, []string{line(1), `{"id":`, `{"id":"two","name":"x"}`, line(3)})
	kafkatest.Produce(t, topic, 2, [][]byte{nil, []byte(`[1,2]`), []byte(line(4))})
	src := openSource(t, testutil.Alloc(t), topic, nil)
	eps := drain(t, src, 0, 7, core.Positions{})
	var dls []core.DeadLetter
	for _, e := range eps {
		dls = append(dls, e.dls...)
	}
	sameSet(t, rowsOf(eps), []string{"1/n1", "3/n3", "4/n4"})
	slices.SortFunc(dls, func(a, b core.DeadLetter) int {
		return strings.Compare(fmt.Sprint(a.Partition, a.Offset), fmt.Sprint(b.Partition, b.Offset))
	})
	type dl struct {
		part   string
		off    int64
		raw    string
		reason string
	}
	want := []dl{
		{"1", 1, `{"id":`, "malformed JSON"},
		{"1", 2, `{"id":"two","name":"x"}`, `column "id": want bigint`},
		{"2", 0, "", "null value"},
		{"2", 1, `[1,2]`, "malformed JSON"},
	}
	if len(dls) != len(want) {
		t.Fatalf("dead letters %+v, want %d", dls, len(want))
	}
	for i, w := range want {
		d := dls[i]
		if d.Source != "events" || d.Partition != w.part || d.Offset != w.off || string(d.Raw) != w.raw || !strings.Contains(d.Reason, w.reason) {
			t.Errorf("dead letter %d = %+v (raw %q), want %+v", i, d, d.Raw, w)
		}
	}
}

func TestEmptyTopic(t *testing.T) {
	const topic = "empty"
	kafkatest.CreateTopic(t, topic, 3)
	src := openSource(t, testutil.Alloc(t), topic, nil)
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		rs, err := src.Next(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if !rs.Empty() {
			t.Fatalf("Next on an empty topic = %v", rs)
		}
		// poll_wait is 100ms plus one offsets request; the bound only
		// proves Next returns instead of waiting for data (speed belongs
		// in benchmarks, and this machine is shared).
		if d := time.Since(t0); d > 5*time.Second {
			t.Fatalf("Next %d on an empty topic took %v; it must return promptly when there is no data", i, d)
		}
	}
	// Records arriving later are picked up.
	kafkatest.Produce(t, topic, 1, [][]byte{[]byte(line(7))})
	eps := drain(t, src, 0, 1, core.Positions{})
	if got := rowsOf(eps); !slices.Equal(got, []string{"7/n7"}) || eps[0].ranges["1"] != (core.Range{From: 0, To: 1}) {
		t.Fatalf("got %v in %v", got, eps[0].ranges)
	}
}

func TestBounded(t *testing.T) {
	const topic = "bounded"
	kafkatest.CreateTopic(t, topic, 3)
	want := fill(t, topic, 4, 0)
	src := openSource(t, testutil.Alloc(t), topic, map[string]any{"bounded": true})
	eps := drain(t, src, 5, len(want), core.Positions{})
	sameSet(t, rowsOf(eps), want)
	kafkatest.Produce(t, topic, 0, [][]byte{[]byte(line(100))})
	if !src.Exhausted() {
		t.Fatal("bounded source not exhausted after reading its end offsets")
	}
	if rs, err := src.Next(context.Background(), 0); err != nil || !rs.Empty() {
		t.Fatalf("Next on an exhausted source = %v, %v", rs, err)
	}
}

func TestNewPartitions(t *testing.T) {
	const topic = "grow"
	kafkatest.CreateTopic(t, topic, 1)
	src := openSource(t, testutil.Alloc(t), topic, map[string]any{"partition_refresh": "50ms"})
	kafkatest.Produce(t, topic, 0, [][]byte{[]byte(line(1))})
	drain(t, src, 0, 1, core.Positions{})
	kafkatest.AddPartitions(t, topic, 2)
	kafkatest.Produce(t, topic, 1, [][]byte{[]byte(line(2))})
	eps := drain(t, src, 0, 1, core.Positions{})
	if got := rowsOf(eps); !slices.Equal(got, []string{"2/n2"}) {
		t.Fatalf("got %v", got)
	}
}

func TestOpenErrors(t *testing.T) {
	addr := kafkatest.Addr(t)
	mem := testutil.Alloc(t)
	open := func(o map[string]any) error {
		src, err := connect.OpenSource(context.Background(), "kafka", connect.SourceConfig{
			Name: "events", Options: o, Format: "json", Columns: cols, Alloc: mem,
		})
		if err == nil {
			src.Close()
		}
		return err
	}
	for _, tc := range []struct {
		name string
		opts map[string]any
		want []string
	}{
		{"missing", map[string]any{}, []string{"brokers is required", "topic is required"}},
		{"unknown", map[string]any{"brokers": addr, "topic": "x", "group": "g"}, []string{`unknown option "group"`}},
		{"no-topic", map[string]any{"brokers": addr, "topic": "no-such-topic"}, []string{`topic "no-such-topic" does not exist on ` + addr}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := open(tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

var benchOnce sync.Once

// BenchmarkRead measures decoding throughput: path=replay re-reads every
// range from the broker (recovery), path=live proposes and reads with
// Next/Read.
func BenchmarkRead(b *testing.B) {
	const topic, per = "bench-read", 100_000
	benchOnce.Do(func() {
		kafkatest.CreateTopic(b, topic, 3)
		for p := 0; p < 3; p++ {
			vals := make([][]byte, per)
			for i := range vals {
				vals[i] = []byte(line(p*per + i))
			}
			kafkatest.Produce(b, topic, p, vals)
		}
	})
	all := core.Ranges{"0": {From: 0, To: per}, "1": {From: 0, To: per}, "2": {From: 0, To: per}}
	count := func(src core.Source, rs core.Ranges) int {
		n := 0
		dls, err := src.Read(context.Background(), rs, func(rb arrow.RecordBatch) error {
			n += int(rb.NumRows())
			return nil
		})
		if err != nil || len(dls) > 0 {
			b.Fatalf("read: %v, %d dead letters", err, len(dls))
		}
		return n
	}
	b.Run("path=replay", func(b *testing.B) {
		mem := testutil.Alloc(b)
		src := openSourceN(b, mem, topic, nil, 4096)
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n += count(src, all)
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("path=live", func(b *testing.B) {
		mem := testutil.Alloc(b)
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			src := openSourceN(b, mem, topic, nil, 4096)
			for got := 0; got < 3*per; {
				rs, err := src.Next(context.Background(), 50_000)
				if err != nil {
					b.Fatal(err)
				}
				got += count(src, rs)
			}
			n += 3 * per
			src.Close()
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	})
}

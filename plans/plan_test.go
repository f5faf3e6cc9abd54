package plans

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/cockroachdb/datadriven"
	"github.com/stratadb/strata/connect/format"
	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

// TestPlans runs the scripts in testdata/:
//
//	catalog            one relation a line: name: col type, col type
//	plan               SQL -> output columns, key and the operator tree, or the error
//	exec               SQL, then input lines "+{json}" / "-{json}", "epoch" ends an epoch
//	                   -> per epoch the consolidated changes, then the final view
func TestPlans(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		cat := Catalog{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "catalog":
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					name, rest, _ := strings.Cut(line, ":")
					var cols []core.Column
					for _, c := range strings.Split(rest, ",") {
						f := strings.Fields(c)
						typ, err := core.ParseType(strings.Join(f[1:], " "))
						if err != nil {
							t.Fatal(err)
						}
						cols = append(cols, core.Column{Name: f[0], Type: typ})
					}
					cat[strings.TrimSpace(name)] = cols
				}
				return ""
			case "plan":
				p, err := Plan(d.Input, cat)
				if err != nil {
					return renderErr(d.Input, err)
				}
				return describePlan(p) + p.Explain()
			case "exec":
				return execScript(t, cat, d.Input)
			}
			t.Fatalf("unknown command %s", d.Cmd)
			return ""
		})
	})
}

func renderErr(sql string, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "error: %v\n", err)
	if pe, ok := err.(*Error); ok && pe.Pos >= 0 && pe.Pos <= len(sql) {
		fmt.Fprintf(&b, "  %s\n  %s^\n", strings.ReplaceAll(sql, "\n", " "), strings.Repeat(" ", pe.Pos))
	}
	return b.String()
}

func describePlan(p *ViewPlan) string {
	cols := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		cols[i] = c.Name + " " + c.Type.Name
	}
	return fmt.Sprintf("inputs: %s\ncolumns: %s\nkey: [%s]\n", strings.Join(p.Inputs(), ", "), strings.Join(cols, ", "), strings.Join(p.Key, ", "))
}

func execScript(t *testing.T, cat Catalog, input string) string {
	mem := testutil.Alloc(t)
	lines := strings.Split(input, "\n")
	p, err := Plan(lines[0], cat)
	if err != nil {
		return renderErr(lines[0], err)
	}
	ch, err := p.Build(mem)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	ctx := context.Background()
	state := map[string]int64{}
	var out strings.Builder
	emit := func(changes *[]string) func(b arrow.RecordBatch) error {
		return func(b arrow.RecordBatch) error {
			w := core.Weights(b)
			for r := 0; r < int(b.NumRows()); r++ {
				vals := make([]string, b.NumCols()-1)
				for c := range vals {
					vals[c] = core.FormatValue(core.ValueAt(b.Column(c), r))
				}
				row := strings.Join(vals, " ")
				*changes = append(*changes, fmt.Sprintf("%+d %s", w.Value(r), row))
				state[row] += w.Value(r)
				if state[row] == 0 {
					delete(state, row)
				}
			}
			return nil
		}
	}
	epoch := 1
	inputs := p.Inputs()
	decs := map[string]format.Decoder{}
	negs := map[string][]int{}
	for _, rel := range inputs {
		decs[rel] = format.NewJSON(cat[rel], mem)
		defer decs[rel].Release()
	}
	wm := int64(engine.NoWatermark)
	var dead []string
	ctx = engine.WithDeadLetters(ctx, func(d core.DeadLetter) { dead = append(dead, d.Reason+" "+string(d.Raw)) })
	runEpoch := func() {
		var changes []string
		ch.SetWatermark(wm)
		for _, rel := range inputs {
			pendingNeg = negs[rel]
			flushInput(t, mem, decs[rel], func(b arrow.RecordBatch) {
				if err := ch.Push(ctx, rel, b, emit(&changes)); err != nil {
					t.Fatal(err)
				}
			})
			negs[rel] = nil
		}
		if err := ch.EndEpoch(ctx, emit(&changes)); err != nil {
			fmt.Fprintf(&out, "epoch %d: error: %v\n", epoch, err)
			return
		}
		sort.Strings(changes)
		fmt.Fprintf(&out, "epoch %d:\n", epoch)
		for _, c := range changes {
			fmt.Fprintf(&out, "  %s\n", c)
		}
		for _, d := range dead {
			fmt.Fprintf(&out, "  dead letter: %s\n", d)
		}
		dead = nil
		epoch++
	}
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		switch {
		case l == "epoch":
			runEpoch()
		case l == "watermark +inf":
			wm = math.MaxInt64
		case strings.HasPrefix(l, "watermark "):
			tm, err := format.ParseTimestamp(strings.TrimPrefix(l, "watermark "))
			if err != nil {
				t.Fatal(err)
			}
			wm = tm.UnixMicro()
		case strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-"):
			// "+{json}" feeds the only input; "+rel {json}" names it.
			rel, js := inputs[0], l[1:]
			if !strings.HasPrefix(js, "{") {
				rel, js, _ = strings.Cut(js, " ")
			}
			dec, ok := decs[rel]
			if !ok {
				t.Fatalf("line %q: the view does not read %q (inputs: %v)", l, rel, inputs)
			}
			if err := dec.Append([]byte(js)); err != nil {
				t.Fatalf("bad input %q: %v", l, err)
			}
			if l[0] == '-' {
				negs[rel] = append(negs[rel], dec.Len()-1)
			}
		}
	}
	runEpoch()
	rows := make([]string, 0, len(state))
	for r, n := range state {
		rows = append(rows, fmt.Sprintf("%s (x%d)", r, n))
	}
	sort.Strings(rows)
	fmt.Fprintf(&out, "view:\n")
	for _, r := range rows {
		fmt.Fprintf(&out, "  %s\n", r)
	}
	return out.String()
}

// pendingNeg lists rows of the decoder's pending batch that are retractions.
var pendingNeg []int

// flushInput turns the decoded rows into a batch, negating the weights of
// the rows marked as retractions.
func flushInput(t *testing.T, mem memory.Allocator, dec format.Decoder, fn func(arrow.RecordBatch)) {
	b := dec.Flush()
	if b == nil {
		pendingNeg = nil
		return
	}
	defer b.Release()
	if len(pendingNeg) > 0 {
		w := core.Weights(b)
		neg := map[int]bool{}
		for _, i := range pendingNeg {
			neg[i] = true
		}
		bld := array.NewInt64Builder(mem)
		defer bld.Release()
		for i := 0; i < w.Len(); i++ {
			if neg[i] {
				bld.Append(-w.Value(i))
			} else {
				bld.Append(w.Value(i))
			}
		}
		nw := bld.NewArray()
		defer nw.Release()
		cols := append([]arrow.Array(nil), b.Columns()[:b.NumCols()-1]...)
		cols = append(cols, nw)
		nb := array.NewRecordBatch(b.Schema(), cols, b.NumRows())
		defer nb.Release()
		pendingNeg = nil
		fn(nb)
		return
	}
	fn(b)
}

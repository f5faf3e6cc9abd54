package engine

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/stratadb/strata/engine/core"
)

// foldUDF folds one batch into user-defined aggregate i: the rows with a
// positive weight are accumulated (a row of weight w, w times), those with
// a negative weight retracted, each in one call over every group the batch
// touched. g.rowGroup holds each row's group (Push).
func (g *GroupAgg) foldUDF(ctx context.Context, i int, in arrow.RecordBatch) error {
	a := g.aggs[i]
	w := fixed[int64](core.Weights(in))
	local := map[*group]int32{}
	var touched []*group
	var pos, neg []int32 // input rows, repeated per unit of weight
	var gpos, gneg []int32
	for r, gr := range g.rowGroup {
		li, ok := local[gr]
		if !ok {
			li = int32(len(touched))
			local[gr] = li
			touched = append(touched, gr)
		}
		for k := w[r]; k > 0; k-- {
			pos, gpos = append(pos, int32(r)), append(gpos, li)
		}
		for k := w[r]; k < 0; k++ {
			neg, gneg = append(neg, int32(r)), append(gneg, li)
		}
	}
	states := g.udfStates(touched, i)
	defer func() { states.Release() }()
	for _, step := range []struct {
		rows, groups []int32
		retract      bool
	}{{pos, gpos, false}, {neg, gneg, true}} {
		if len(step.rows) == 0 {
			continue
		}
		ib := array.NewInt32Builder(g.mem)
		ib.AppendValues(step.rows, nil)
		idx := ib.NewArray()
		ib.Release()
		args := make([]arrow.Array, 0, len(a.UDFArgs))
		var err error
		for _, c := range a.UDFArgs {
			var t arrow.Array
			if t, err = takeArray(g.mem, in.Column(c), idx); err != nil {
				break
			}
			args = append(args, t)
		}
		var next arrow.Array
		var rowErrs []core.RowError
		if err == nil {
			next, rowErrs, err = a.UDF.Fold(ctx, g.mem, states, step.groups, args, step.retract)
		}
		for _, t := range args {
			t.Release()
		}
		idx.Release()
		if err != nil {
			return fmt.Errorf("aggregate %s: %w", a.UDF.FunctionName(), err)
		}
		states.Release()
		states = next
		for _, re := range rowErrs {
			r := int(step.rows[re.Row])
			switch a.Policy {
			case core.OnErrorNull:
			case core.OnErrorDeadLetter:
				if !step.retract {
					ReportDeadLetter(ctx, core.DeadLetter{Source: "udf " + a.UDF.FunctionName(), Offset: -1,
						Reason: fmt.Sprintf("udf %s: %s", a.UDF.FunctionName(), re.Msg), Raw: []byte(rowText(in, r))})
				}
			default:
				return &UDFError{Func: a.UDF.FunctionName(), Row: rowText(in, r), Msg: re.Msg}
			}
		}
	}
	st := states.(*array.Binary)
	if st.Len() != len(touched) {
		return fmt.Errorf("aggregate %s: %d states for %d groups", a.UDF.FunctionName(), st.Len(), len(touched))
	}
	for j, gr := range touched {
		if st.IsNull(j) {
			gr.ustate[i] = nil
		} else {
			gr.ustate[i] = append(gr.ustate[i][:0], st.Value(j)...)
		}
	}
	return nil
}

// finishUDFs computes the user-defined aggregates' values of every group
// whose states changed (the dirty ones, and windows about to close), one
// call per aggregate.
func (g *GroupAgg) finishUDFs(ctx context.Context) error {
	var stale []*group
	seen := map[*group]bool{}
	add := func(gr *group) {
		if gr.ustale && !seen[gr] {
			seen[gr] = true
			stale = append(stale, gr)
		}
	}
	for _, gr := range g.dirty {
		add(gr)
	}
	for _, gr := range g.pending {
		add(gr)
	}
	if len(stale) == 0 {
		return nil
	}
	for i, a := range g.aggs {
		if a.Kind != AggUDF {
			continue
		}
		states := g.udfStates(stale, i)
		out, rowErrs, err := a.UDF.Finish(ctx, g.mem, states)
		states.Release()
		if err != nil {
			return fmt.Errorf("aggregate %s: %w", a.UDF.FunctionName(), err)
		}
		if len(rowErrs) > 0 && a.Policy != core.OnErrorNull && a.Policy != core.OnErrorDeadLetter {
			out.Release()
			gr := stale[rowErrs[0].Row]
			return &UDFError{Func: a.UDF.FunctionName(), Row: fmt.Sprintf("(the group %v)", gr.keyVals), Msg: rowErrs[0].Msg}
		}
		for j, gr := range stale {
			gr.uval[i] = core.ValueAt(out, j)
		}
		out.Release()
	}
	for _, gr := range stale {
		gr.ustale = false
	}
	return nil
}

// udfStates is the states of user-defined aggregate i of groups, as the
// function takes them (bytea; NULL for the initial state).
func (g *GroupAgg) udfStates(groups []*group, i int) arrow.Array {
	sb := array.NewBinaryBuilder(g.mem, arrow.BinaryTypes.Binary)
	defer sb.Release()
	for _, gr := range groups {
		if gr.ustate[i] == nil {
			sb.AppendNull()
		} else {
			sb.Append(gr.ustate[i])
		}
	}
	return sb.NewArray()
}

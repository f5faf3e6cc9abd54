package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/engine/core"
)

// UDFCall calls a user-defined scalar function (a WebAssembly UDF) over
// Args, once per batch. Policy says what a row the function fails on
// becomes: an error of the view, NULL, or a dead letter (the row is
// dropped). Filter and Project evaluate UDF calls first, innermost first,
// as extra columns (udfStage), then the rest of the expression over them;
// Eval alone cannot, because a call needs the epoch's context.
type UDFCall struct {
	Fn     core.ScalarFunction
	Args   []Expr
	T      core.Type
	Policy core.ErrorPolicy
}

func (e *UDFCall) Type() core.Type { return e.T }
func (e *UDFCall) String() string {
	args := make([]string, len(e.Args))
	for i, a := range e.Args {
		args[i] = a.String()
	}
	return e.Fn.FunctionName() + "(" + strings.Join(args, ", ") + ")"
}

// MapExpr rebuilds e bottom-up, replacing every node n by f(n) after its
// children were mapped. Nodes f leaves alone are copied only when a child
// changed.
func MapExpr(e Expr, f func(Expr) Expr) Expr {
	m := func(x Expr) Expr { return MapExpr(x, f) }
	list := func(xs []Expr) []Expr {
		out := make([]Expr, len(xs))
		for i, x := range xs {
			out[i] = m(x)
		}
		return out
	}
	switch x := e.(type) {
	case *Binary:
		c := *x
		c.L, c.R = m(x.L), m(x.R)
		e = &c
	case *Unary:
		c := *x
		c.X = m(x.X)
		e = &c
	case *Cast:
		c := *x
		c.X = m(x.X)
		e = &c
	case *Call:
		c := *x
		c.Args = list(x.Args)
		e = &c
	case *UDFCall:
		c := *x
		c.Args = list(x.Args)
		e = &c
	case *Case:
		c := *x
		c.Whens = make([]When, len(x.Whens))
		for i, w := range x.Whens {
			c.Whens[i] = When{Cond: m(w.Cond), Then: m(w.Then)}
		}
		if x.Else != nil {
			c.Else = m(x.Else)
		}
		e = &c
	case *In:
		c := *x
		c.X, c.List = m(x.X), list(x.List)
		e = &c
	case *Like:
		c := *x
		c.X, c.Pattern = m(x.X), m(x.Pattern)
		e = &c
	}
	return f(e)
}

// HasUDF reports whether e calls a user-defined function.
func HasUDF(e Expr) bool {
	found := false
	MapExpr(e, func(x Expr) Expr {
		if _, ok := x.(*UDFCall); ok {
			found = true
		}
		return x
	})
	return found
}

// udfStage evaluates the UDF calls of an operator's expressions as columns
// appended after the input's (after _weight), so the expressions, rewritten
// to read those columns, are plain kernels again.
type udfStage struct {
	calls []*UDFCall // innermost first; Args read input or earlier calls' columns
	base  int        // input columns, _weight included
}

// hoistUDFs rewrites exprs over an input of width columns (with _weight):
// every UDF call becomes a ColRef to its stage column. It returns nil when
// no expression calls a UDF.
func hoistUDFs(width int, exprs []Expr) (*udfStage, []Expr) {
	st := &udfStage{base: width}
	out := make([]Expr, len(exprs))
	for i, e := range exprs {
		out[i] = MapExpr(e, func(x Expr) Expr {
			c, ok := x.(*UDFCall)
			if !ok {
				return x
			}
			st.calls = append(st.calls, c)
			return &ColRef{Index: st.base + len(st.calls) - 1, Name: c.String(), T: c.T}
		})
	}
	if len(st.calls) == 0 {
		return nil, exprs
	}
	return st, out
}

// UDFError is a UDF's failure on a row under the fail policy.
type UDFError struct {
	Func string
	Row  string // the input row, rendered
	Msg  string
}

func (e *UDFError) Error() string {
	return fmt.Sprintf("udf %s failed on row %s: %s (set on_error: null or dead_letter on the udf to keep the view running)", e.Func, e.Row, e.Msg)
}

// run evaluates the calls over in and returns the extended batch (caller
// releases) and the rows dropped as dead letters (nil when none).
func (st *udfStage) run(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch) (arrow.RecordBatch, []bool, error) {
	n := int(in.NumRows())
	cols := make([]arrow.Array, 0, st.base+len(st.calls))
	fields := make([]arrow.Field, 0, st.base+len(st.calls))
	cols = append(cols, in.Columns()...)
	fields = append(fields, in.Schema().Fields()...)
	var owned []arrow.Array
	defer func() {
		for _, c := range owned {
			c.Release()
		}
	}()
	var dropped []bool
	for i, c := range st.calls {
		ext := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
		args := make([]arrow.Array, len(c.Args))
		var err error
		for j, a := range c.Args {
			if args[j], err = Eval(mem, a, ext); err != nil {
				break
			}
		}
		var out arrow.Array
		var rowErrs []core.RowError
		if err == nil {
			out, rowErrs, err = c.Fn.CallBatch(ctx, mem, args)
		}
		for _, a := range args {
			if a != nil {
				a.Release()
			}
		}
		ext.Release()
		if err != nil {
			return nil, nil, err
		}
		owned = append(owned, out)
		for _, re := range rowErrs {
			switch c.Policy {
			case core.OnErrorNull:
			case core.OnErrorDeadLetter:
				if dropped == nil {
					dropped = make([]bool, n)
				}
				if !dropped[re.Row] && core.Weights(in).Value(re.Row) > 0 {
					ReportDeadLetter(ctx, core.DeadLetter{Source: "udf " + c.Fn.FunctionName(), Offset: -1,
						Reason: fmt.Sprintf("udf %s: %s", c.Fn.FunctionName(), re.Msg), Raw: []byte(rowText(in, re.Row))})
				}
				dropped[re.Row] = true
			default:
				return nil, nil, &UDFError{Func: c.Fn.FunctionName(), Row: rowText(in, re.Row), Msg: re.Msg}
			}
		}
		cols = append(cols, out)
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("_udf%d", i), Type: out.DataType(), Nullable: true})
	}
	ext := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
	return ext, dropped, nil
}

// keepMask is a boolean array true for the rows not dropped.
func keepMask(mem memory.Allocator, dropped []bool) *array.Boolean {
	b := array.NewBooleanBuilder(mem)
	defer b.Release()
	b.Reserve(len(dropped))
	for _, d := range dropped {
		b.UnsafeAppend(!d)
	}
	return b.NewBooleanArray()
}

// andNotDropped clears the mask's bits of dropped rows.
func andNotDropped(mem memory.Allocator, m *array.Boolean, dropped []bool) *array.Boolean {
	b := array.NewBooleanBuilder(mem)
	defer b.Release()
	b.Reserve(m.Len())
	for i := 0; i < m.Len(); i++ {
		b.UnsafeAppend(!dropped[i] && m.IsValid(i) && m.Value(i))
	}
	return b.NewBooleanArray()
}

func hasUDFs(es []Expr) bool {
	for _, e := range es {
		if HasUDF(e) {
			return true
		}
	}
	return false
}

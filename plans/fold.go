package plans

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
)

// fold evaluates an operator whose operands are all constants once, at
// plan time (constant folding): 1 + 2 becomes 3, NOT true becomes false.
// It uses the engine's own kernels, so the folded value is exactly what the
// engine would compute; an expression that fails (overflow) is left for run
// time, where the error names the view.
func fold(e engine.Expr) engine.Expr {
	if c, ok := e.(*engine.Const); ok {
		return c
	}
	if !readsColumns(e) {
		return evalConst(e)
	}
	var kids []engine.Expr
	switch x := e.(type) {
	case *engine.Binary:
		if x.Op == engine.OpAnd || x.Op == engine.OpOr {
			x = &engine.Binary{Op: x.Op, L: fold(x.L), R: fold(x.R), T: x.T}
			e = x
		}
		// x AND true = x, x OR false = x (NULL and the other constant
		// decide nothing alone, so they stay).
		for _, p := range [][2]engine.Expr{{x.L, x.R}, {x.R, x.L}} {
			if c, ok := p[1].(*engine.Const); ok && c.Value != nil {
				if b, isBool := c.Value.(bool); isBool && ((x.Op == engine.OpAnd && b) || (x.Op == engine.OpOr && !b)) {
					return p[0]
				}
			}
		}
		kids = []engine.Expr{x.L, x.R}
	case *engine.Unary:
		kids = []engine.Expr{x.X}
	case *engine.Cast:
		kids = []engine.Expr{x.X}
	default:
		return e
	}
	for _, k := range kids {
		if _, ok := k.(*engine.Const); !ok {
			return e
		}
	}
	return evalConst(e)
}

// readsColumns reports whether e reads a column (or holds a node this
// walker does not know, which counts as reading).
func readsColumns(e engine.Expr) bool {
	switch x := e.(type) {
	case *engine.Const:
		return false
	case *engine.ColRef:
		return true
	case *engine.Binary:
		return readsColumns(x.L) || readsColumns(x.R)
	case *engine.Unary:
		return readsColumns(x.X)
	case *engine.Cast:
		return readsColumns(x.X)
	case *engine.Call:
		for _, a := range x.Args {
			if readsColumns(a) {
				return true
			}
		}
		return false
	case *engine.Case:
		for _, w := range x.Whens {
			if readsColumns(w.Cond) || readsColumns(w.Then) {
				return true
			}
		}
		return x.Else != nil && readsColumns(x.Else)
	case *engine.In:
		if readsColumns(x.X) {
			return true
		}
		for _, a := range x.List {
			if readsColumns(a) {
				return true
			}
		}
		return false
	case *engine.Like:
		return readsColumns(x.X) || readsColumns(x.Pattern)
	}
	return true
}

// evalConst computes a column-free expression once, with the engine's
// kernels; on an error (overflow) the expression is left for run time.
func evalConst(e engine.Expr) engine.Expr {
	mem := memory.NewGoAllocator()
	rec := array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 1)
	defer rec.Release()
	arr, err := engine.Eval(mem, e, rec)
	if err != nil {
		return e
	}
	defer arr.Release()
	v := core.ValueAt(arr, 0)
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
	case int32:
		v = int64(x)
	case time.Time:
		switch t := e.Type().Arrow.(type) {
		case *arrow.Date32Type:
			v = int64(arrow.Date32FromTime(x))
		case *arrow.TimestampType:
			if t.TimeZone != "" || t.Unit != arrow.Microsecond {
				return e
			}
			v = x.UnixMicro()
		default:
			return e
		}
	default:
		return e // a type whose constants the engine keeps otherwise
	}
	return &engine.Const{Value: v, T: e.Type()}
}

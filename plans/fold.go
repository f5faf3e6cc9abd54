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

package plans

import (
	"errors"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
)

// scratch backs the one-row columns the binder folds constants with; they
// are released at once, so a plain Go allocator is enough.
var scratch memory.Allocator = memory.NewGoAllocator()

func negConst(c *engine.Const) engine.Expr {
	if v, ok := c.Value.(arrow.MonthDayNanoInterval); ok {
		return &engine.Const{Value: arrow.MonthDayNanoInterval{Months: -v.Months, Days: -v.Days, Nanoseconds: -v.Nanoseconds}, T: c.T}
	}
	return &engine.Unary{Op: engine.OpNeg, X: c, T: c.T}
}

// isLiteral reports whether e is a string literal or NULL, whose type
// yields to its neighbours' (Postgres' "unknown" literals).
func isLiteral(e engine.Expr) (null, str bool) {
	c, ok := e.(*engine.Const)
	if !ok {
		return false, false
	}
	if c.Value == nil {
		return true, false
	}
	_, s := c.Value.(string)
	return false, s && c.T.Name == core.Varchar.Name
}

// commonType picks the type a list of expressions (CASE results, COALESCE
// and IN lists, ...) is cast to: NULLs and string literals yield, numbers
// widen (integer < bigint < decimal < double), date < timestamp <
// timestamptz. ok is false when two types cannot meet.
func commonType(es []engine.Expr) (t core.Type, ok bool, a, b core.Type) {
	var have bool
	sawString := false
	for _, e := range es {
		null, str := isLiteral(e)
		if null {
			continue
		}
		if str {
			sawString = true
			continue
		}
		et := e.Type()
		if !have {
			t, have = et, true
			continue
		}
		m, ok := meet(t, et)
		if !ok {
			return core.Type{}, false, t, et
		}
		t = m
	}
	if !have {
		if sawString {
			return core.Varchar, true, t, t
		}
		// All NULL: Postgres' unknown resolves to text; DuckDB keeps NULL.
		return es[0].Type(), true, t, t
	}
	return t, true, t, t
}

var numOrder = map[arrow.Type]int{arrow.INT32: 1, arrow.INT64: 2, arrow.DECIMAL128: 3, arrow.FLOAT64: 4}

func meet(a, b core.Type) (core.Type, bool) {
	if arrow.TypeEqual(a.Arrow, b.Arrow) {
		return a, true
	}
	ra, na := numOrder[a.Arrow.ID()]
	rb, nb := numOrder[b.Arrow.ID()]
	if na && nb {
		if ra == 3 && rb == 3 {
			return core.Double, true // two different decimals: keep it simple
		}
		if ra == 3 || rb == 3 {
			// decimal with an integer stays decimal only if it fits; use double.
			return core.Double, true
		}
		if ra > rb {
			return a, true
		}
		return b, true
	}
	timeOrder := map[string]int{core.Date.Name: 1, core.Timestamp.Name: 2, core.Timestamptz.Name: 3}
	ta, tb := timeOrder[a.Name], timeOrder[b.Name]
	if ta > 0 && tb > 0 {
		if ta > tb {
			return a, true
		}
		return b, true
	}
	return core.Type{}, false
}

// castCommon casts es to their common type.
func castCommon(es []engine.Expr, pos int32, what string) ([]engine.Expr, error) {
	t, ok, a, b := commonType(es)
	if !ok {
		return nil, errAt(pos, "cast the values to one type, e.g. x::varchar", "%s types %s and %s cannot be matched", what, a.Name, b.Name)
	}
	out := make([]engine.Expr, len(es))
	for i, e := range es {
		x, err := castTo(e, t, pos)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

// castConst folds a cast of a constant with the engine's own cast kernel,
// so a literal and a column convert alike. Text to date and timestamp keeps
// the binder's original parser (it accepts RFC 3339 with zones), and an
// interval qualifier (INTERVAL '10' MINUTE) gives a bare number its unit.
func castConst(c *engine.Const, t core.Type) (any, error) {
	if unit, ok := strings.CutPrefix(t.Name, "interval "); ok {
		if s, isStr := c.Value.(string); isStr {
			iv, err := engine.ParseInterval(s, lastField(unit))
			if err != nil {
				return nil, err
			}
			return iv, nil
		}
		t = core.Interval
	}
	fromText := map[string]bool{core.Bigint.Name: true, core.Integer.Name: true, core.Double.Name: true, core.Boolean.Name: true, core.Date.Name: true, core.Timestamp.Name: true}
	fromInt := map[string]bool{core.Bigint.Name: true, core.Integer.Name: true, core.Double.Name: true, core.Varchar.Name: true}
	isInt := c.T.Name == core.Bigint.Name || c.T.Name == core.Integer.Name
	if c.T.Name == core.Varchar.Name && fromText[t.Name] || isInt && fromInt[t.Name] {
		v, err := convertConst(c.Value, t)
		if err == nil {
			return v, nil
		}
		if c.T.Name == core.Varchar.Name {
			if v, err2 := engine.CastConst(scratch, c.Value, c.T, t); err2 == nil {
				return v, nil
			}
			return nil, err
		}
	}
	v, err := engine.CastConst(scratch, c.Value, c.T, t)
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(strings.TrimPrefix(err.Error(), engine.ErrCast.Error()), ": "))
	}
	return v, nil
}

// lastField is the unit a bare number has under an interval qualifier:
// the last field ("day to second" -> second).
func lastField(q string) string {
	f := strings.Fields(q)
	return f[len(f)-1]
}

// normType drops an interval qualifier from a cast target.
func normType(t core.Type) core.Type {
	if strings.HasPrefix(t.Name, "interval ") {
		return core.Interval
	}
	return t
}

// typmodInts reads a type name's integer modifiers: numeric(10,2) -> 10, 2.
func typmodInts(t *pg.TypeName) []int32 {
	var out []int32
	for _, m := range t.Typmods {
		c := m.GetAConst()
		if c == nil {
			return nil
		}
		iv, ok := c.Val.(*pg.A_Const_Ival)
		if !ok {
			return nil
		}
		out = append(out, iv.Ival.Ival)
	}
	return out
}

// intervalField names the field qualifier Postgres encodes in an interval
// typmod (INTERVAL '10' MINUTE); "" for none.
func intervalField(mask int32) string {
	const (
		month, year, day   = 1 << 1, 1 << 2, 1 << 3
		hour, minute, secd = 1 << 10, 1 << 11, 1 << 12
	)
	return map[int32]string{
		year: "year", month: "month", day: "day", hour: "hour", minute: "minute", secd: "second",
		year | month: "year to month", day | hour: "day to hour", day | hour | minute: "day to minute",
		day | hour | minute | secd: "day to second", hour | minute: "hour to minute", hour | minute | secd: "hour to second",
		minute | secd: "minute to second",
	}[mask]
}

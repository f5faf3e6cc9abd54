package engine

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

type decimalNum = decimal.Decimal128

func init() {
	kernels["nullif"] = nullifKernel
	kernels["greatest"] = func(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
		return extremum(mem, n, args, t, OpGt)
	}
	kernels["least"] = func(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
		return extremum(mem, n, args, t, OpLt)
	}
	kernels["is_distinct"] = func(mem memory.Allocator, n int, args []operand, _ core.Type) (arrow.Array, error) {
		return distinct(mem, n, args, true)
	}
	kernels["is_not_distinct"] = func(mem memory.Allocator, n int, args []operand, _ core.Type) (arrow.Array, error) {
		return distinct(mem, n, args, false)
	}
	for fn, want := range map[string][2]bool{"is_true": {true, false}, "is_not_true": {false, true}, "is_false": {false, false}, "is_not_false": {true, true}} {
		kernels[fn] = boolTest(want[0], want[1])
	}
}

// columns materialises every operand; the caller releases them.
func columns(mem memory.Allocator, n int, args []operand) ([]arrow.Array, error) {
	cols := make([]arrow.Array, 0, len(args))
	for _, a := range args {
		c, err := a.column(mem, n)
		if err != nil {
			releaseAll(cols)
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, nil
}

func releaseAll(as []arrow.Array) {
	for _, a := range as {
		if a != nil {
			a.Release()
		}
	}
}

// truth reads a boolean column as "true and not NULL".
func truth(a arrow.Array, out []bool) {
	b := a.(*array.Boolean)
	vb := bitsOf(b)
	for i := range out {
		out[i] = vb.ok(i) && b.Value(i)
	}
}

func evalCase(mem memory.Allocator, e *Case, b arrow.RecordBatch) (arrow.Array, error) {
	n := int(b.NumRows())
	which := make([]int32, n)
	for i := range which {
		which[i] = -1
	}
	// open marks rows no arm has taken yet; conditions and results are
	// only required to succeed on those rows.
	open := make([]bool, n)
	for i := range open {
		open[i] = true
	}
	nopen := n
	srcs := make([]arrow.Array, 0, len(e.Whens)+1)
	defer func() { releaseAll(srcs) }()
	hit := make([]bool, n)
	for k, w := range e.Whens {
		if nopen == 0 {
			break
		}
		c, err := evalWhere(mem, w.Cond, b, open, nopen)
		if err != nil {
			return nil, err
		}
		truth(c, hit)
		c.Release()
		nhit := 0
		for i := range hit {
			hit[i] = hit[i] && open[i]
			if hit[i] {
				nhit++
			}
		}
		if nhit == 0 {
			continue
		}
		v, err := evalWhere(mem, w.Then, b, hit, nhit)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, v)
		for i, h := range hit {
			if h {
				which[i] = int32(len(srcs) - 1)
				open[i] = false
			}
		}
		nopen -= nhit
		_ = k
	}
	if e.Else != nil && nopen > 0 {
		v, err := evalWhere(mem, e.Else, b, open, nopen)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, v)
		for i, o := range open {
			if o {
				which[i] = int32(len(srcs) - 1)
			}
		}
	}
	return gather(mem, e.T.Arrow, srcs, which, nil), nil
}

// evalCoalesce takes each row from the first argument that is not NULL;
// later arguments are evaluated only for the rows still NULL.
func evalCoalesce(mem memory.Allocator, e *Call, b arrow.RecordBatch) (arrow.Array, error) {
	n := int(b.NumRows())
	which := make([]int32, n)
	open := make([]bool, n)
	for i := range which {
		which[i] = -1
		open[i] = true
	}
	nopen := n
	srcs := make([]arrow.Array, 0, len(e.Args))
	defer func() { releaseAll(srcs) }()
	for _, a := range e.Args {
		if nopen == 0 {
			break
		}
		v, err := evalWhere(mem, a, b, open, nopen)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, v)
		vb := bitsOf(v)
		for i := range open {
			if open[i] && vb.ok(i) {
				which[i] = int32(len(srcs) - 1)
				open[i] = false
				nopen--
			}
		}
	}
	return gather(mem, e.T.Arrow, srcs, which, nil), nil
}

// nullifKernel is NULLIF(a, b): NULL where a = b, else a.
func nullifKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	cols, err := columns(mem, n, args)
	if err != nil {
		return nil, err
	}
	defer releaseAll(cols)
	eq, err := compareAny(mem, OpEq, cols[0], cols[1])
	if err != nil {
		return nil, err
	}
	defer eq.Release()
	hit := make([]bool, n)
	truth(eq, hit)
	which := make([]int32, n)
	for i, h := range hit {
		if h {
			which[i] = -1
		}
	}
	return gather(mem, t.Arrow, cols[:1], which, nil), nil
}

// extremum is GREATEST (op >) and LEAST (op <): NULL arguments are
// ignored; the result is NULL only when all are.
func extremum(mem memory.Allocator, n int, args []operand, t core.Type, op BinOp) (arrow.Array, error) {
	cols, err := columns(mem, n, args)
	if err != nil {
		return nil, err
	}
	defer releaseAll(cols)
	which := make([]int32, n)
	vb := bitsOf(cols[0])
	for i := range which {
		if !vb.ok(i) {
			which[i] = -1
		}
	}
	better := make([]bool, n)
	for k := 1; k < len(cols); k++ {
		// best-so-far as a column, compared with the candidate in one pass.
		cur := gather(mem, t.Arrow, cols, which, nil)
		c, err := compareAny(mem, op, cols[k], cur)
		cur.Release()
		if err != nil {
			return nil, err
		}
		truth(c, better)
		c.Release()
		kb := bitsOf(cols[k])
		for i := range which {
			if kb.ok(i) && (which[i] < 0 || better[i]) {
				which[i] = int32(k)
			}
		}
	}
	return gather(mem, t.Arrow, cols, which, nil), nil
}

// distinct is IS [NOT] DISTINCT FROM: NULLs compare equal to each other,
// and the result is never NULL.
func distinct(mem memory.Allocator, n int, args []operand, isDistinct bool) (arrow.Array, error) {
	cols, err := columns(mem, n, args)
	if err != nil {
		return nil, err
	}
	defer releaseAll(cols)
	eq, err := compareAny(mem, OpEq, cols[0], cols[1])
	if err != nil {
		return nil, err
	}
	defer eq.Release()
	e := eq.(*array.Boolean)
	lb, rb, eb := bitsOf(cols[0]), bitsOf(cols[1]), bitsOf(e)
	bld := array.NewBooleanBuilder(mem)
	defer bld.Release()
	bld.Reserve(n)
	for i := 0; i < n; i++ {
		var same bool
		switch l, r := lb.ok(i), rb.ok(i); {
		case !l || !r:
			same = l == r
		default:
			same = eb.ok(i) && e.Value(i)
		}
		bld.UnsafeAppend(same != isDistinct)
	}
	return bld.NewArray(), nil
}

// boolTest builds IS [NOT] TRUE / FALSE: onNull is the answer for NULL,
// and a value v answers v == want... expressed as (v == match) for
// non-NULL rows.
func boolTest(match, onNull bool) kernel {
	// is_true: v; is_not_true: !v or NULL; is_false: !v; is_not_false: v or NULL.
	return func(mem memory.Allocator, n int, args []operand, _ core.Type) (arrow.Array, error) {
		bld := array.NewBooleanBuilder(mem)
		defer bld.Release()
		bld.Reserve(n)
		if args[0].isConst() {
			v, ok := args[0].c.(bool)
			r := onNull
			if ok {
				r = v == match
			}
			for i := 0; i < n; i++ {
				bld.UnsafeAppend(r)
			}
			return bld.NewArray(), nil
		}
		b := args[0].arr.(*array.Boolean)
		vb := bitsOf(b)
		for i := 0; i < n; i++ {
			if !vb.ok(i) {
				bld.UnsafeAppend(onNull)
			} else {
				bld.UnsafeAppend(b.Value(i) == match)
			}
		}
		return bld.NewArray(), nil
	}
}

// evalIn evaluates X [NOT] IN (List). A list of constants becomes a hash
// set probed once per row; otherwise each element is compared in turn.
func evalIn(mem memory.Allocator, e *In, b arrow.RecordBatch) (arrow.Array, error) {
	n := int(b.NumRows())
	x, err := Eval(mem, e.X, b)
	if err != nil {
		return nil, err
	}
	defer x.Release()
	// found/unknown per row: true, or NULL because some element was NULL.
	found := make([]bool, n)
	unknown := make([]bool, n)
	if ok := inConstSet(x, e.List, found, unknown); !ok {
		eq := make([]bool, n)
		for _, el := range e.List {
			v, err := Eval(mem, el, b)
			if err != nil {
				return nil, err
			}
			c, err := compareAny(mem, OpEq, x, v)
			v.Release()
			if err != nil {
				return nil, err
			}
			cb := c.(*array.Boolean)
			vb := bitsOf(cb)
			truth(c, eq)
			for i := range eq {
				found[i] = found[i] || eq[i]
				unknown[i] = unknown[i] || !vb.ok(i)
			}
			c.Release()
		}
	}
	xb := bitsOf(x)
	bld := array.NewBooleanBuilder(mem)
	defer bld.Release()
	bld.Reserve(n)
	for i := 0; i < n; i++ {
		switch {
		case !xb.ok(i):
			bld.AppendNull()
		case found[i]:
			bld.UnsafeAppend(!e.Not)
		case unknown[i]:
			bld.AppendNull()
		default:
			bld.UnsafeAppend(e.Not)
		}
	}
	return bld.NewArray(), nil
}

// inConstSet handles a list of constants with a set; it reports false
// when the list (or x's type) needs the general path.
func inConstSet(x arrow.Array, list []Expr, found, unknown []bool) bool {
	hasNull := false
	consts := make([]any, 0, len(list))
	for _, el := range list {
		c, ok := el.(*Const)
		if !ok {
			return false
		}
		if c.Value == nil {
			hasNull = true
			continue
		}
		consts = append(consts, c.Value)
	}
	if hasNull {
		for i := range unknown {
			unknown[i] = true
		}
	}
	switch x.DataType().ID() {
	case arrow.INT64, arrow.TIMESTAMP:
		return probe(values[int64](x), consts, found)
	case arrow.INT32, arrow.DATE32:
		set := make(map[int32]struct{}, len(consts))
		for _, c := range consts {
			v, ok := c.(int64)
			if !ok {
				return false
			}
			set[int32(v)] = struct{}{}
		}
		for i, v := range values[int32](x) {
			_, found[i] = set[v]
		}
		return true
	case arrow.FLOAT64:
		return probe(values[float64](x), consts, found)
	case arrow.STRING:
		set := make(map[string]struct{}, len(consts))
		for _, c := range consts {
			s, ok := c.(string)
			if !ok {
				return false
			}
			set[s] = struct{}{}
		}
		s := x.(*array.String)
		for i := range found {
			_, found[i] = set[s.Value(i)]
		}
		return true
	}
	return false
}

func probe[T int64 | float64](vals []T, consts []any, found []bool) bool {
	set := make(map[T]struct{}, len(consts))
	for _, c := range consts {
		v, ok := c.(T)
		if !ok {
			return false
		}
		set[v] = struct{}{}
	}
	for i, v := range vals {
		_, found[i] = set[v]
	}
	return true
}

// compareAny compares two columns of one type, including the types the
// original comparison kernel does not know (interval, decimal).
func compareAny(mem memory.Allocator, op BinOp, l, r arrow.Array) (arrow.Array, error) {
	switch l.DataType().ID() {
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return compareInterval(mem, op, l, r), nil
	case arrow.DECIMAL128:
		return compareDecimal(mem, op, l, r)
	}
	return compare(mem, op, l, r)
}

func compareInterval(mem memory.Allocator, op BinOp, l, r arrow.Array) arrow.Array {
	lv, rv := values[arrow.MonthDayNanoInterval](l), values[arrow.MonthDayNanoInterval](r)
	lb, rb := bitsOf(l), bitsOf(r)
	bld := array.NewBooleanBuilder(mem)
	defer bld.Release()
	bld.Reserve(len(lv))
	for i := range lv {
		if !lb.ok(i) || !rb.ok(i) {
			bld.AppendNull()
			continue
		}
		a, b := intervalKey(lv[i]), intervalKey(rv[i])
		bld.UnsafeAppend(cmpResult(op, a.cmp(b), 0))
	}
	return bld.NewArray()
}

func compareDecimal(mem memory.Allocator, op BinOp, l, r arrow.Array) (arrow.Array, error) {
	if !arrow.TypeEqual(l.DataType(), r.DataType()) {
		return nil, fmt.Errorf("engine: comparison of %s and %s", l.DataType(), r.DataType())
	}
	lv, rv := values[decimalNum](l), values[decimalNum](r)
	lb, rb := bitsOf(l), bitsOf(r)
	bld := array.NewBooleanBuilder(mem)
	defer bld.Release()
	bld.Reserve(len(lv))
	for i := range lv {
		if !lb.ok(i) || !rb.ok(i) {
			bld.AppendNull()
			continue
		}
		c := 0
		if lv[i].Less(rv[i]) {
			c = -1
		} else if lv[i] != rv[i] {
			c = 1
		}
		bld.UnsafeAppend(cmpResult(op, c, 0))
	}
	return bld.NewArray(), nil
}

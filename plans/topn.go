package plans

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
)

// rankInfo marks the ROW_NUMBER() column of a relation; the enclosing
// query's filter (rn <= N) sets the limit the TopN operator keeps.
type rankInfo struct {
	col   int
	limit int64
	pos   int32
}

// isRowNumber reports whether n is ROW_NUMBER() OVER (..).
func isRowNumber(n *pg.Node) bool {
	fc := n.GetFuncCall()
	return fc != nil && fc.Over != nil && funcName(fc) == "row_number"
}

// rowNumber binds a select list with ROW_NUMBER() OVER (PARTITION BY ..
// ORDER BY ..): a projection of the other items and the window's keys, a
// TopN, and the select list over it.
func (b *binder) rowNumber(sel *pg.SelectStmt, in *rel, sc *scope) (*rel, error) {
	var pre []engine.Expr
	var preNames []string
	type item struct {
		rank bool
		idx  int
		name string
	}
	var items []item
	var over *pg.WindowDef
	var overPos int32
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if isRowNumber(rt.Val) {
			fc := rt.Val.GetFuncCall()
			if over != nil {
				return nil, unsupported(fc.Location, "more than one ROW_NUMBER() in a select list")
			}
			over, overPos = fc.Over, fc.Location
			items = append(items, item{rank: true, name: outputName(rt)})
			continue
		}
		if fc := rt.Val.GetFuncCall(); fc != nil && fc.Over != nil {
			return nil, unsupported(fc.Location, "window function "+funcName(fc)+"() (ROW_NUMBER() is supported, for top-N and dedup)")
		}
		if cr := rt.Val.GetColumnRef(); cr != nil && isStar(cr) {
			es, ns, err := sc.star(cr)
			if err != nil {
				return nil, err
			}
			for i := range es {
				items = append(items, item{idx: len(pre), name: ns[i]})
				pre, preNames = append(pre, es[i]), append(preNames, ns[i])
			}
			continue
		}
		e, err := sc.bind(rt.Val)
		if err != nil {
			return nil, err
		}
		items = append(items, item{idx: len(pre), name: outputName(rt)})
		pre, preNames = append(pre, e), append(preNames, outputName(rt))
	}
	if len(over.OrderClause) == 0 {
		return nil, errAt(overPos, "top-N needs an order, e.g. ORDER BY price DESC", "ROW_NUMBER() OVER (..) without ORDER BY")
	}
	var part []int
	for _, p := range over.PartitionClause {
		e, err := sc.bind(p)
		if err != nil {
			return nil, err
		}
		part = append(part, len(pre))
		pre, preNames = append(pre, e), append(preNames, fmt.Sprintf("_p%d", len(part)))
	}
	var order []engine.SortKey
	for _, o := range over.OrderClause {
		sb := o.GetSortBy()
		e, err := sc.bind(sb.Node)
		if err != nil {
			return nil, err
		}
		k := engine.SortKey{Col: len(pre), Desc: sb.SortbyDir == pg.SortByDir_SORTBY_DESC}
		k.NullsFirst = k.Desc
		switch sb.SortbyNulls {
		case pg.SortByNulls_SORTBY_NULLS_FIRST:
			k.NullsFirst = true
		case pg.SortByNulls_SORTBY_NULLS_LAST:
			k.NullsFirst = false
		}
		order = append(order, k)
		pre, preNames = append(pre, e), append(preNames, fmt.Sprintf("_o%d", len(order)))
	}
	preRel := projectRel(in, pre, preNames)
	rk := &rankInfo{col: -1, pos: overPos}
	b.ranks = append(b.ranks, rk)
	topCols := append(append([]core.Column(nil), preRel.cols...), core.Column{Name: "_rn", Type: core.Bigint})
	top := &rel{cols: topCols, key: append(append([]int(nil), part...), len(pre)), node: &lop{ins: []*rel{preRel}, mk: func(mem memory.Allocator, s []*arrow.Schema) (engine.Operator, error) {
		return engine.NewTopN(mem, s[0], part, order, rk.limit, "_rn")
	}}}
	// The partition columns and the row number identify an output row.
	var exprs []engine.Expr
	var names []string
	for _, it := range items {
		if it.rank {
			rk.col = len(exprs)
			exprs = append(exprs, &engine.ColRef{Index: len(pre), Name: "_rn", T: core.Bigint})
		} else {
			exprs = append(exprs, &engine.ColRef{Index: it.idx, Name: preNames[it.idx], T: pre[it.idx].Type()})
		}
		names = append(names, it.name)
	}
	if err := checkDup(sel, names); err != nil {
		return nil, err
	}
	out := projectRel(top, exprs, names)
	out.rank = rk
	return out, nil
}

// takeRankLimit looks for rn <= N, rn < N or rn = 1 among the conjuncts
// over a relation with a row number, and sets the TopN's limit.
func takeRankLimit(in *rel, sc *scope, conj []*pg.Node) {
	if in.rank == nil {
		return
	}
	for _, c := range conj {
		ae := c.GetAExpr()
		if ae == nil || ae.Kind != pg.A_Expr_Kind_AEXPR_OP || len(ae.Name) != 1 {
			continue
		}
		op := ae.Name[0].GetString_().GetSval()
		col, lit := ae.Lexpr, ae.Rexpr
		if ae.Lexpr.GetAConst() != nil {
			col, lit = ae.Rexpr, ae.Lexpr
			switch op { // N >= rn is rn <= N
			case ">=":
				op = "<="
			case ">":
				op = "<"
			case "<=", "<":
				continue
			}
		}
		cr := col.GetColumnRef()
		k := lit.GetAConst()
		if cr == nil || k == nil || k.GetIval() == nil {
			continue
		}
		e, err := sc.column(cr)
		if err != nil {
			continue
		}
		if ref, ok := e.(*engine.ColRef); !ok || ref.Index != in.rank.col {
			continue
		}
		n := int64(k.GetIval().Ival)
		var limit int64
		switch op {
		case "<=":
			limit = n
		case "<":
			limit = n - 1
		case "=":
			if n == 1 {
				limit = 1
			}
		}
		if limit > 0 && (in.rank.limit == 0 || limit < in.rank.limit) {
			in.rank.limit = limit
		}
	}
}

package plans

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/stratadb/strata/engine"
)

// bindScalar binds the scalar constructs beyond operators and casts:
// function calls, CASE, COALESCE, NULLIF, IN, BETWEEN, LIKE. ok is false
// when n is none of them, so the caller reports it as unsupported. rec binds
// sub-expressions in the caller's scope.
func bindScalar(n *pg.Node, rec func(*pg.Node) (engine.Expr, error)) (e engine.Expr, ok bool, err error) {
	return nil, false, nil
}

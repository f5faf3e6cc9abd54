package difftest

// Construct is a SQL feature a query needs beyond the core the planner has
// always had (projection, filter, arithmetic, GROUP BY with count and sum,
// global aggregates).
type Construct string

// The constructs of issue #4.
const (
	Avg           Construct = "avg"
	MinMax        Construct = "min/max"
	BoolAgg       Construct = "bool_and/bool_or"
	CountDistinct Construct = "count(distinct)"
	Having        Construct = "having"
	Join          Construct = "join"
	OuterJoin     Construct = "outer join"
	MultiJoin     Construct = "multi-way join"
	NonEquiJoin   Construct = "non-equi join condition"
	IntervalJoin  Construct = "interval join"
	Distinct      Construct = "distinct"
	UnionAll      Construct = "union all"
	Union         Construct = "union"
	CTE           Construct = "cte"
	Subquery      Construct = "subquery in from"
	ViewOverView  Construct = "view over view"
	Tumble        Construct = "tumble"
	Hop           Construct = "hop"
	Session       Construct = "session"
	EmitOnClose   Construct = "emit on window close"
	TopN          Construct = "top-n"
	Dedup         Construct = "dedup"
	Scalar        Construct = "scalar functions"
	TimeFuncs     Construct = "time functions"
	AggFilter     Construct = "aggregate FILTER (WHERE ..)"
	StringAgg     Construct = "string_agg"
)

// Supported is the one place that says which constructs the planner and
// engine support: a query runs iff it plans, and a query whose every need is
// supported must plan. Flip a construct here when it lands.
var Supported = map[Construct]bool{
	Avg: true, MinMax: true, BoolAgg: true, CountDistinct: true, Having: true,
	Join: true, OuterJoin: true, MultiJoin: true, NonEquiJoin: true, IntervalJoin: true,
	Distinct: true, UnionAll: true, Union: true, CTE: true, Subquery: true, ViewOverView: true,
	Tumble: true, Hop: true, Session: true, EmitOnClose: true, TopN: true, Dedup: true,
	Scalar: true, TimeFuncs: true,
	AggFilter: true, StringAgg: false,
}

// View is an upstream view a query reads (views over views).
type View struct {
	Name, SQL string
	// Oracle is the DuckDB spelling when it differs from SQL.
	Oracle string
}

// Query is one view under test.
type Query struct {
	Name string
	// SQL is the view in Strata's (Postgres) dialect.
	SQL string
	// Oracle is the same query for DuckDB when the spelling differs; empty
	// means SQL. The differences, each documented where it is used:
	//   - integer division: Postgres' a / b truncates; DuckDB's / is float
	//     division, its // truncates. Both (and Strata) give NULL for a
	//     zero divisor (Postgres would raise an error; Strata follows DuckDB).
	//   - window table functions: TUMBLE/HOP/SESSION are spelled with
	//     time_bucket and window functions; rows with a NULL event time
	//     belong to no window.
	//   - ORDER BY x DESC: Postgres puts NULLs first, DuckDB last, so the
	//     oracle says NULLS FIRST.
	//   - EMIT ON WINDOW CLOSE: the oracle keeps the windows closed at the
	//     epoch's watermark; {{wm}} is replaced with it as a TIMESTAMP literal.
	// Result types may differ (sum(bigint) is HUGEINT in DuckDB, numeric in
	// Postgres, bigint in Strata): values are compared numerically.
	Oracle string
	// Needs lists the constructs beyond the core the query uses.
	Needs []Construct
	// Views are upstream views, planned and run before the query, which
	// reads them by name.
	Views []View
}

// Pending lists the needs of q that are not Supported.
func (q Query) Pending() []Construct {
	var out []Construct
	for _, c := range q.Needs {
		if !Supported[c] {
			out = append(out, c)
		}
	}
	return out
}

// OracleSQL returns the DuckDB spelling of q.
func (q Query) OracleSQL() string {
	if q.Oracle != "" {
		return q.Oracle
	}
	return q.SQL
}

const perUser = "SELECT user_id, count(*) AS n, sum(amount) AS s FROM events GROUP BY user_id"

// sessions spells SESSION(src, ts, gap) GROUP BY key for DuckDB: sessions are
// runs of distinct event times less than gap apart (ties share a session);
// aggs are over the per-time pre-aggregates of t (c: rows, s: sum(amount)).
func sessions(src, key, gap, aggs string) string {
	return `WITH t AS (SELECT ` + key + `, ts, count(*) AS c, sum(amount) AS s FROM ` + src + ` WHERE ts IS NOT NULL GROUP BY ` + key + `, ts),
	o AS (SELECT *, CASE WHEN lag(ts) OVER w IS NULL OR ts - lag(ts) OVER w >= INTERVAL '` + gap + `' THEN 1 ELSE 0 END AS brk FROM t WINDOW w AS (PARTITION BY ` + key + ` ORDER BY ts)),
	x AS (SELECT *, sum(brk) OVER (PARTITION BY ` + key + ` ORDER BY ts ROWS UNBOUNDED PRECEDING) AS sid FROM o),
	s AS (SELECT ` + key + `, min(ts) AS window_start, max(ts) + INTERVAL '` + gap + `' AS window_end, ` + aggs + ` FROM x GROUP BY ` + key + `, sid)
	SELECT * FROM s`
}

// Queries is the table of views under test.
var Queries = []Query{
	// Projections and filters.
	{Name: "select_star", SQL: "SELECT * FROM events"},
	{Name: "project_arith", SQL: "SELECT id, amount + qty AS a, amount - 3 * qty AS b, -amount AS neg, price * 2 AS p2, price + amount AS pa FROM events"},
	{Name: "filter_and_or", SQL: "SELECT id, kind FROM events WHERE (amount > 50 AND qty < 3) OR kind = 'buy'"},
	{Name: "filter_not_null", SQL: "SELECT id, amount FROM events WHERE amount IS NULL OR NOT (qty > 2)"},
	{Name: "filter_bool_col", SQL: "SELECT id, ok FROM events WHERE ok OR (NOT ok AND amount > 90)"},
	{Name: "filter_is_not_null", SQL: "SELECT user_id, price FROM events WHERE price IS NOT NULL AND user_id IS NOT NULL AND price > 10.5"},
	{Name: "filter_mixed_cmp", SQL: "SELECT id, qty FROM events WHERE price > amount AND qty >= 2 AND amount <> 7"},
	{Name: "filter_empty_string", SQL: "SELECT id, kind FROM events WHERE kind = '' OR kind >= 'refund'"},
	{Name: "const_columns", SQL: "SELECT 1 AS one, 'x' AS s, id, NULL::bigint AS nothing FROM events WHERE kind = 'view'"},
	{Name: "int_division", SQL: "SELECT id, amount / qty AS d, amount % qty AS m FROM events WHERE qty <> 0",
		Oracle: "SELECT id, amount // qty AS d, amount % qty AS m FROM events WHERE qty <> 0"},
	{Name: "division_by_zero", SQL: "SELECT id, amount / qty AS d, qty / (qty - 2) AS e, amount % qty AS m FROM events",
		Oracle: "SELECT id, amount // qty AS d, qty // (qty - 2) AS e, amount % qty AS m FROM events"},
	{Name: "double_division", SQL: "SELECT id, price / qty AS r, price / 4 AS q FROM events WHERE qty <> 0"},
	{Name: "mixed_int_types", SQL: "SELECT qty * amount AS x, qty + 1 AS y, qty * qty AS z FROM events"},
	{Name: "table_project", SQL: "SELECT id, name, score * 2 AS s2, tier + 1 AS t FROM users WHERE vip"},
	{Name: "table_filter_null", SQL: "SELECT id, region, since FROM users WHERE region IS NULL OR tier > 1"},

	// GROUP BY with count and sum; global aggregates.
	{Name: "count_star", SQL: "SELECT user_id, count(*) AS n FROM events GROUP BY user_id"},
	{Name: "count_sum", SQL: "SELECT kind, count(amount) AS n, sum(amount) AS s, sum(qty) AS q FROM events GROUP BY kind"},
	{Name: "sum_double", SQL: "SELECT user_id, sum(price) AS s, count(price) AS n FROM events GROUP BY user_id"},
	{Name: "global_count", SQL: "SELECT count(*) AS n, count(price) AS np, sum(amount) AS s FROM events"},
	{Name: "global_table", SQL: "SELECT count(*) AS n, sum(tier) AS t, sum(score) AS s FROM users"},
	{Name: "group_two_keys", SQL: "SELECT user_id, kind, count(*) AS n, sum(amount) AS s FROM events GROUP BY user_id, kind"},
	{Name: "group_expr", SQL: "SELECT amount % 10 AS b, count(*) AS n FROM events GROUP BY amount % 10"},
	{Name: "group_position", SQL: "SELECT kind, qty, count(*) AS n FROM events GROUP BY 1, 2"},
	{Name: "group_bool", SQL: "SELECT ok, count(*) AS n, sum(price) AS s FROM events GROUP BY ok"},
	{Name: "group_table", SQL: "SELECT region, count(*) AS n, sum(tier) AS t, sum(score) AS s FROM users GROUP BY region"},
	{Name: "group_key_not_selected", SQL: "SELECT count(*) AS n FROM events GROUP BY kind"},
	{Name: "agg_of_expr", SQL: "SELECT user_id, sum(amount * qty) AS s, count(*) * 2 AS n2, sum(amount) + 1 AS s1 FROM events GROUP BY user_id"},
	{Name: "filter_then_group", SQL: "SELECT kind, sum(qty) AS q, count(*) AS n FROM events WHERE amount > 0 AND ok IS NOT NULL GROUP BY kind"},
	{Name: "group_timestamp", SQL: "SELECT since, count(*) AS n FROM users GROUP BY since"},
	{Name: "group_payments", SQL: "SELECT user_id, sum(amount) AS s, count(*) AS n FROM payments GROUP BY user_id"},

	// Aggregates that survive retractions, HAVING.
	{Name: "avg", Needs: []Construct{Avg}, SQL: "SELECT user_id, avg(amount) AS a, avg(price) AS p FROM events GROUP BY user_id"},
	{Name: "min_max", Needs: []Construct{MinMax}, SQL: "SELECT kind, min(amount) AS lo, max(amount) AS hi, min(price) AS plo, max(price) AS phi, max(ts) AS last FROM events GROUP BY kind"},
	{Name: "min_max_table", Needs: []Construct{MinMax}, SQL: "SELECT region, min(score) AS lo, max(score) AS hi, min(name) AS first, max(since) AS latest FROM users GROUP BY region"},
	{Name: "bool_agg_table", Needs: []Construct{BoolAgg}, SQL: "SELECT region, bool_and(vip) AS all_vip, bool_or(vip) AS any_vip FROM users GROUP BY region"},
	{Name: "count_distinct", Needs: []Construct{CountDistinct}, SQL: "SELECT user_id, count(DISTINCT kind) AS kinds, count(DISTINCT qty) AS qtys FROM events GROUP BY user_id"},
	{Name: "count_distinct_table", Needs: []Construct{CountDistinct}, SQL: "SELECT region, count(DISTINCT tier) AS tiers FROM users GROUP BY region"},
	{Name: "having", Needs: []Construct{Having}, SQL: "SELECT user_id, count(*) AS n FROM events GROUP BY user_id HAVING count(*) > 3 AND sum(amount) > 50"},
	{Name: "having_table", Needs: []Construct{Having}, SQL: "SELECT region, count(*) AS n FROM users GROUP BY region HAVING count(*) >= 3"},
	{Name: "having_avg", Needs: []Construct{Having, Avg}, SQL: "SELECT kind, avg(price) AS a FROM events GROUP BY kind HAVING avg(price) > 40"},
	{Name: "global_min_max", Needs: []Construct{MinMax, Avg, CountDistinct}, SQL: "SELECT min(amount) AS lo, max(price) AS hi, avg(qty) AS q, count(DISTINCT user_id) AS users FROM events"},
	{Name: "global_min_max_table", Needs: []Construct{MinMax, Avg}, SQL: "SELECT min(score) AS lo, max(score) AS hi, avg(tier) AS t FROM users"},

	// Joins.
	{Name: "join_inner", Needs: []Construct{Join}, SQL: "SELECT e.id, u.name, e.amount FROM events e JOIN users u ON e.user_id = u.id"},
	{Name: "join_where", Needs: []Construct{Join}, SQL: "SELECT e.kind, u.region FROM events e, users u WHERE e.user_id = u.id AND u.vip AND e.amount > 20"},
	{Name: "join_left", Needs: []Construct{OuterJoin}, SQL: "SELECT u.id, u.region, e.amount FROM users u LEFT JOIN events e ON e.user_id = u.id"},
	{Name: "join_right", Needs: []Construct{OuterJoin}, SQL: "SELECT e.id, u.name FROM users u RIGHT JOIN events e ON e.user_id = u.id"},
	{Name: "join_full", Needs: []Construct{OuterJoin}, SQL: "SELECT u.id, u.tier, p.user_id, p.amount FROM users u FULL JOIN payments p ON p.user_id = u.id"},
	{Name: "join_residual", Needs: []Construct{Join, NonEquiJoin}, SQL: "SELECT e.id, u.tier FROM events e JOIN users u ON e.user_id = u.id AND e.qty > u.tier"},
	{Name: "join_agg", Needs: []Construct{Join}, SQL: "SELECT u.region, count(*) AS n, sum(e.amount) AS s FROM events e JOIN users u ON e.user_id = u.id GROUP BY u.region"},
	{Name: "join_three_way", Needs: []Construct{Join, MultiJoin}, SQL: "SELECT e.id, u.name, v.name AS peer FROM events e JOIN users u ON e.user_id = u.id JOIN users v ON v.id = u.tier"},
	{Name: "join_two_streams_agg", Needs: []Construct{Join, MultiJoin}, SQL: "SELECT u.region, count(*) AS n FROM payments p JOIN users u ON p.user_id = u.id JOIN events e ON e.user_id = u.id AND e.kind = 'buy' GROUP BY u.region"},
	{Name: "self_join_nonequi", Needs: []Construct{Join, NonEquiJoin}, SQL: "SELECT a.user_id, count(*) AS n FROM payments a JOIN payments b ON a.user_id = b.user_id AND a.amount < b.amount GROUP BY a.user_id"},
	{Name: "left_join_agg", Needs: []Construct{OuterJoin}, SQL: "SELECT u.id, count(e.id) AS n, sum(e.amount) AS s FROM users u LEFT JOIN events e ON e.user_id = u.id GROUP BY u.id"},
	{Name: "full_join_agg", Needs: []Construct{OuterJoin, Scalar}, SQL: "SELECT coalesce(u.id, p.user_id) AS k, count(*) AS n FROM users u FULL JOIN payments p ON p.user_id = u.id GROUP BY 1"},
	{Name: "join_using", Needs: []Construct{Join, Subquery}, SQL: "SELECT id, name, amount FROM users JOIN (SELECT user_id AS id, amount FROM payments) x USING (id)"},
	{Name: "interval_join", Needs: []Construct{IntervalJoin}, SQL: "SELECT e.id, p.amount FROM events e JOIN payments p ON e.user_id = p.user_id AND p.ts BETWEEN e.ts AND e.ts + INTERVAL '3' SECOND"},

	// DISTINCT, UNION, CTEs, subqueries, views over views.
	{Name: "distinct", Needs: []Construct{Distinct}, SQL: "SELECT DISTINCT kind, qty FROM events"},
	{Name: "distinct_table", Needs: []Construct{Distinct}, SQL: "SELECT DISTINCT region, vip FROM users"},
	{Name: "union_all", Needs: []Construct{UnionAll}, SQL: "SELECT user_id, amount FROM events UNION ALL SELECT user_id, amount FROM payments"},
	{Name: "union_all_table", Needs: []Construct{UnionAll}, SQL: "SELECT id AS k, tier::bigint AS v FROM users UNION ALL SELECT user_id, amount FROM payments WHERE amount > 50"},
	{Name: "union_all_aggs", Needs: []Construct{UnionAll}, SQL: "SELECT 'e' AS src, count(*) AS n FROM events UNION ALL SELECT 'p', count(*) FROM payments"},
	{Name: "union", Needs: []Construct{Union}, SQL: "SELECT user_id AS k FROM events UNION SELECT id FROM users"},
	{Name: "cte", Needs: []Construct{CTE}, SQL: "WITH big AS (SELECT user_id, amount FROM events WHERE amount > 20) SELECT user_id, count(*) AS n FROM big GROUP BY user_id"},
	{Name: "subquery", Needs: []Construct{Subquery, MinMax}, SQL: "SELECT s.k, max(s.a) AS top FROM (SELECT kind AS k, amount AS a FROM events WHERE qty > 0) s GROUP BY s.k"},
	{Name: "agg_of_agg", Needs: []Construct{Subquery}, SQL: "SELECT n, count(*) AS users FROM (SELECT user_id, count(*) AS n FROM events GROUP BY user_id) g GROUP BY n"},
	{Name: "filter_over_agg", Needs: []Construct{Subquery}, SQL: "SELECT * FROM (SELECT user_id, count(*) AS n FROM events GROUP BY user_id) g WHERE n > 5"},
	{Name: "distinct_then_count", Needs: []Construct{Distinct, Subquery}, SQL: "SELECT count(*) AS n FROM (SELECT DISTINCT user_id, kind FROM events) d"},
	{Name: "view_over_view", Needs: []Construct{ViewOverView}, Views: []View{{Name: "per_user", SQL: perUser}},
		SQL: "SELECT n, count(*) AS c FROM per_user GROUP BY n"},
	{Name: "view_join_table", Needs: []Construct{ViewOverView, Join}, Views: []View{{Name: "per_user", SQL: perUser}},
		SQL: "SELECT u.region, sum(p.n) AS n, sum(p.s) AS s FROM per_user p JOIN users u ON p.user_id = u.id GROUP BY u.region"},

	// Windows.
	{Name: "tumble", Needs: []Construct{Tumble},
		SQL:    "SELECT user_id, window_start, count(*) AS n, sum(amount) AS s FROM TUMBLE(events, ts, INTERVAL '10' SECOND) GROUP BY user_id, window_start",
		Oracle: "SELECT user_id, time_bucket(INTERVAL '10 seconds', ts) AS window_start, count(*) AS n, sum(amount) AS s FROM events WHERE ts IS NOT NULL GROUP BY ALL"},
	{Name: "tumble_end", Needs: []Construct{Tumble, MinMax},
		SQL:    "SELECT window_start, window_end, max(price) AS hi, min(amount) AS lo FROM TUMBLE(events, ts, INTERVAL '30' SECOND) GROUP BY window_start, window_end",
		Oracle: "SELECT time_bucket(INTERVAL '30 seconds', ts) AS window_start, time_bucket(INTERVAL '30 seconds', ts) + INTERVAL '30 seconds' AS window_end, max(price) AS hi, min(amount) AS lo FROM events WHERE ts IS NOT NULL GROUP BY ALL"},
	{Name: "hop", Needs: []Construct{Hop},
		SQL:    "SELECT window_start, count(*) AS n, sum(amount) AS s FROM HOP(payments, ts, INTERVAL '5' SECOND, INTERVAL '15' SECOND) GROUP BY window_start",
		Oracle: "SELECT w AS window_start, count(*) AS n, sum(amount) AS s FROM (SELECT time_bucket(INTERVAL '5 seconds', ts) - INTERVAL (k * 5) SECOND AS w, amount FROM payments, range(3) t(k) WHERE ts IS NOT NULL) GROUP BY w"},
	{Name: "session", Needs: []Construct{Session},
		SQL:    "SELECT user_id, window_start, window_end, count(*) AS n, sum(amount) AS s FROM SESSION(payments, ts, INTERVAL '4' SECOND) GROUP BY user_id, window_start, window_end",
		Oracle: sessions("payments", "user_id", "4 seconds", "sum(c) AS n, sum(s) AS s")},
	{Name: "tumble_emit_on_close", Needs: []Construct{Tumble, EmitOnClose},
		SQL: "SELECT kind, window_start, count(*) AS n FROM TUMBLE(events, ts, INTERVAL '10' SECOND) GROUP BY kind, window_start EMIT ON WINDOW CLOSE",
		Oracle: "SELECT * FROM (SELECT kind, time_bucket(INTERVAL '10 seconds', ts) AS window_start, count(*) AS n FROM events WHERE ts IS NOT NULL GROUP BY ALL) " +
			"WHERE window_start + INTERVAL '10 seconds' <= {{wm}}"},
	{Name: "session_emit_on_close", Needs: []Construct{Session, EmitOnClose},
		SQL:    "SELECT user_id, window_start, window_end, count(*) AS n FROM SESSION(payments, ts, INTERVAL '4' SECOND) GROUP BY user_id, window_start, window_end EMIT ON WINDOW CLOSE",
		Oracle: "SELECT user_id, window_start, window_end, n FROM (" + sessions("payments", "user_id", "4 seconds", "sum(c) AS n") + ") WHERE window_end <= {{wm}}"},
	{Name: "tumble_join_table", Needs: []Construct{Tumble, Join, Subquery},
		SQL:    "SELECT w.window_start, u.region, w.n FROM (SELECT user_id, window_start, count(*) AS n FROM TUMBLE(events, ts, INTERVAL '20' SECOND) GROUP BY user_id, window_start) w JOIN users u ON w.user_id = u.id",
		Oracle: "SELECT w.window_start, u.region, w.n FROM (SELECT user_id, time_bucket(INTERVAL '20 seconds', ts) AS window_start, count(*) AS n FROM events WHERE ts IS NOT NULL GROUP BY ALL) w JOIN users u ON w.user_id = u.id"},

	// Top-N and dedup. ORDER BY .. DESC puts NULLs first in Postgres.
	{Name: "topn", Needs: []Construct{TopN, Subquery},
		SQL:    "SELECT user_id, id, amount FROM (SELECT user_id, id, amount, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY amount DESC, id) AS rn FROM events) t WHERE rn <= 3",
		Oracle: "SELECT user_id, id, amount FROM (SELECT user_id, id, amount, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY amount DESC NULLS FIRST, id) AS rn FROM events) t WHERE rn <= 3"},
	{Name: "topn_table", Needs: []Construct{TopN, Subquery},
		SQL: "SELECT region, id, score, rn FROM (SELECT region, id, score, ROW_NUMBER() OVER (PARTITION BY region ORDER BY score, id) AS rn FROM users) t WHERE rn <= 2"},
	{Name: "topn_global", Needs: []Construct{TopN, Subquery},
		SQL: "SELECT id, price FROM (SELECT id, price, ROW_NUMBER() OVER (ORDER BY price, id DESC) AS rn FROM events WHERE price IS NOT NULL) t WHERE rn <= 5"},
	{Name: "dedup", Needs: []Construct{Dedup, Subquery},
		SQL: "SELECT user_id, kind, ts FROM (SELECT user_id, kind, ts, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts, id) AS rn FROM events) t WHERE rn = 1"},
	{Name: "topn_of_agg", Needs: []Construct{TopN, Subquery},
		SQL: "SELECT user_id, n FROM (SELECT user_id, n, ROW_NUMBER() OVER (ORDER BY n DESC, user_id) AS rn FROM (SELECT user_id, count(*) AS n FROM events WHERE user_id IS NOT NULL GROUP BY user_id) g) t WHERE rn <= 3"},

	// Scalar functions.
	{Name: "case", Needs: []Construct{Scalar}, SQL: "SELECT id, CASE WHEN amount > 50 THEN 'hi' WHEN amount > 0 THEN 'mid' ELSE 'lo' END AS band, CASE kind WHEN 'buy' THEN 1 ELSE 0 END AS b FROM events"},
	{Name: "coalesce_nullif", Needs: []Construct{Scalar}, SQL: "SELECT COALESCE(amount, qty, -1) AS c, NULLIF(kind, 'view') AS k, COALESCE(price, 0.5) AS p FROM events"},
	{Name: "in_between_like", Needs: []Construct{Scalar}, SQL: "SELECT id FROM events WHERE user_id IN (1, 2, 5) AND amount BETWEEN 0 AND 50 AND kind LIKE '%i%'"},
	{Name: "not_in_not_like", Needs: []Construct{Scalar}, SQL: "SELECT id, kind FROM events WHERE qty NOT IN (1, 2) AND kind NOT LIKE 'v%' AND amount NOT BETWEEN 10 AND 20"},
	{Name: "string_funcs", Needs: []Construct{Scalar}, SQL: "SELECT id, upper(name) AS u, length(region) AS l, name || '/' || region AS nr, substr(name, 1, 1) AS f, lower(region) AS r FROM users"},
	{Name: "casts", Needs: []Construct{Scalar}, SQL: "SELECT CAST(amount AS double) / 4 AS d, CAST(qty AS varchar) AS s, CAST(user_id AS integer) AS i, CAST(ok AS varchar) AS b FROM events"},
	{Name: "bool_tests", Needs: []Construct{Scalar}, SQL: "SELECT id, ok IS TRUE AS t, ok IS NOT FALSE AS nf, (amount > 10) = ok AS eq, ok IS DISTINCT FROM (qty > 2) AS d FROM events"},
	{Name: "case_in_agg", Needs: []Construct{Scalar}, SQL: "SELECT user_id, sum(CASE WHEN ok THEN amount ELSE 0 END) AS s, count(*) AS n FROM events GROUP BY user_id"},
	{Name: "group_by_scalar", Needs: []Construct{Scalar}, SQL: "SELECT coalesce(kind, '?') || '!' AS k, count(*) AS n FROM events GROUP BY 1"},
	// Postgres rounds a double to an integer half to even (rint); DuckDB's
	// CAST rounds half away from zero, so the oracle says round_even.
	{Name: "cast_double_to_int", Needs: []Construct{Scalar},
		SQL:    "SELECT id, price, CAST(price AS bigint) AS b, CAST(price AS integer) AS i FROM events WHERE abs(price) < 1000",
		Oracle: "SELECT id, price, CAST(round_even(price, 0) AS bigint) AS b, CAST(round_even(price, 0) AS integer) AS i FROM events WHERE abs(price) < 1000"},
	{Name: "agg_filter", Needs: []Construct{AggFilter},
		SQL: "SELECT user_id, count(*) FILTER (WHERE ok) AS oks, sum(amount) FILTER (WHERE kind = 'buy') AS bought FROM events GROUP BY user_id"},
	{Name: "agg_filter_more", Needs: []Construct{AggFilter},
		SQL: "SELECT kind, count(DISTINCT user_id) FILTER (WHERE amount > 10) AS big_users, min(amount) FILTER (WHERE ok) AS lo, avg(price) FILTER (WHERE NOT ok) AS avg_bad FROM events GROUP BY kind"},
	{Name: "string_agg", Needs: []Construct{StringAgg, Distinct, Subquery},
		SQL:    "SELECT region, string_agg(name, ',' ORDER BY name) AS names FROM (SELECT DISTINCT region, name FROM users) d GROUP BY region",
		Oracle: "SELECT region, string_agg(name, ',' ORDER BY name) AS names FROM (SELECT DISTINCT region, name FROM users) d GROUP BY region"},
	{Name: "time_funcs", Needs: []Construct{TimeFuncs}, SQL: "SELECT date_trunc('minute', ts) AS m, extract(second FROM ts) AS s, ts + INTERVAL '1' HOUR AS later FROM events"},
	{Name: "time_group", Needs: []Construct{TimeFuncs}, SQL: "SELECT date_trunc('minute', ts) AS m, count(*) AS n FROM events GROUP BY 1"},
}

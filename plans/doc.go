// Package plans turns a view's SQL into the dataflow the engine runs.
//
// SQL text is parsed by the real Postgres grammar (pg_query, run in wazero by
// github.com/wasilibs/go-pgquery), then bound against the catalog of
// relations (names resolved, types checked, implicit casts inserted as
// Postgres does), then lowered to a chain of engine operators:
//
//	SELECT .. FROM src WHERE p          ->  Filter(p) -> Project(..)
//	SELECT k, count(*), sum(x) .. GROUP BY k
//	                                    ->  Filter -> Project(keys, args) -> GroupAgg -> Project(select list)
//
// Everything the planner does not support yet is refused with an *Error
// naming the construct and its byte position in the SQL text, never a panic.
//
// Entry points: Plan (SQL -> *ViewPlan), ViewPlan.Build (-> engine.Chain),
// ViewPlan.Explain. A ViewPlan is immutable and safe for concurrent use;
// Build returns fresh operators each call.
package plans

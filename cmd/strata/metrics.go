package main

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/udf"
)

// metricsHandler serves the engine's counters in the Prometheus text
// exposition format (version 0.0.4), no client library needed.
func metricsHandler(snap func() engine.Metrics, udfStats func() map[string]udf.Stats) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m := snap()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		var b strings.Builder
		metric := func(name, typ, help string) {
			fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		}
		metric("strata_epoch", "gauge", "Last epoch committed to every backend.")
		fmt.Fprintf(&b, "strata_epoch %d\n", m.Epoch)
		metric("strata_epochs_total", "counter", "Epochs run by this process (recovery replays excluded).")
		fmt.Fprintf(&b, "strata_epochs_total %d\n", m.Epochs)
		metric("strata_epoch_duration_seconds", "summary", "Time to run an epoch: read, compute, commit to every backend.")
		fmt.Fprintf(&b, "strata_epoch_duration_seconds_sum %g\nstrata_epoch_duration_seconds_count %d\n", m.EpochSeconds, m.Epochs)
		metric("strata_last_epoch_duration_seconds", "gauge", "Time the last epoch took.")
		fmt.Fprintf(&b, "strata_last_epoch_duration_seconds %g\n", m.LastEpochSeconds)
		metric("strata_dead_letters_total", "counter", "Records sent to dead_letters (undecodable, wrong type, late).")
		fmt.Fprintf(&b, "strata_dead_letters_total %d\n", m.DeadLetters)
		metric("strata_source_records_total", "counter", "Records read per source.")
		for _, s := range sortedKeys(m.Sources) {
			fmt.Fprintf(&b, "strata_source_records_total{source=%q} %d\n", s, m.Sources[s].Records)
		}
		metric("strata_source_watermark_seconds", "gauge", "Event-time watermark per source, in seconds since the Unix epoch.")
		for _, s := range sortedKeys(m.Sources) {
			if wm := m.Sources[s].Watermark; wm != 0 && wm != engine.NoWatermark {
				fmt.Fprintf(&b, "strata_source_watermark_seconds{source=%q} %g\n", s, float64(wm)/1e6)
			}
		}
		metric("strata_backend_apply_seconds", "summary", "Time to apply and commit an epoch, per backend.")
		for _, s := range sortedKeys(m.Backends) {
			bm := m.Backends[s]
			fmt.Fprintf(&b, "strata_backend_apply_seconds_sum{backend=%q} %g\nstrata_backend_apply_seconds_count{backend=%q} %d\n", s, bm.ApplySeconds, s, bm.Applies)
		}
		metric("strata_view_changes_total", "counter", "Changelog rows emitted per view.")
		for _, s := range sortedKeys(m.Views) {
			fmt.Fprintf(&b, "strata_view_changes_total{view=%q} %d\n", s, m.Views[s])
		}
		us := udfStats()
		metric("strata_udf_calls_total", "counter", "Batch calls per UDF (module.function).")
		for _, f := range sortedKeys(us) {
			fmt.Fprintf(&b, "strata_udf_calls_total{udf=%q} %d\n", f, us[f].Calls)
		}
		metric("strata_udf_rows_total", "counter", "Input rows per UDF.")
		for _, f := range sortedKeys(us) {
			fmt.Fprintf(&b, "strata_udf_rows_total{udf=%q} %d\n", f, us[f].Rows)
		}
		metric("strata_udf_row_errors_total", "counter", "Rows a UDF reported an error for.")
		for _, f := range sortedKeys(us) {
			fmt.Fprintf(&b, "strata_udf_row_errors_total{udf=%q} %d\n", f, us[f].RowErrors)
		}
		metric("strata_udf_failures_total", "counter", "UDF calls that failed as a whole (trap, deadline, bad result).")
		for _, f := range sortedKeys(us) {
			fmt.Fprintf(&b, "strata_udf_failures_total{udf=%q} %d\n", f, us[f].Failures)
		}
		metric("strata_udf_seconds_total", "counter", "Time spent in UDF calls, copies included.")
		for _, f := range sortedKeys(us) {
			fmt.Fprintf(&b, "strata_udf_seconds_total{udf=%q} %g\n", f, us[f].Time.Seconds())
		}
		_, _ = w.Write([]byte(b.String()))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package nexmark

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratadb/strata/plans"
)

// TestQueriesPlanOrSayWhy keeps the list honest: every qN.sql on disk is
// embedded, q0..q22 are all there, and each query either plans or carries
// "-- status: unsupported: <msg>" with exactly the message the planner
// gives today. When the planner learns a construct, this test fails until
// the status line goes (and the query joins the benchmark).
func TestQueriesPlanOrSayWhy(t *testing.T) {
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := filepath.Glob("*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(onDisk) != len(qs) {
		t.Errorf("%d .sql files on disk, %d embedded (the embed pattern is q*.sql)", len(onDisk), len(qs))
	}
	for i, q := range qs {
		if want := fmt.Sprintf("q%d", i); q.Name != want {
			t.Fatalf("query %d is %s, want %s: q0..q22 without gaps", i, q.Name, want)
		}
	}
	if len(qs) != 23 {
		t.Errorf("%d queries, want q0..q22", len(qs))
	}
	cat := plans.Catalog(Relations())
	for _, q := range qs {
		t.Run(q.Name, func(t *testing.T) {
			_, err := plans.Plan(q.SQL, cat)
			var pe *plans.Error
			switch {
			case err == nil && q.Unsupported != "":
				t.Errorf("%s.sql says unsupported (%s), but it plans now: remove the status line and check it with strata bench nexmark --queries %s", q.Name, q.Unsupported, q.Name)
			case err != nil && q.Unsupported == "":
				t.Errorf("%s does not plan: %v\n(fix it, or mark it -- status: unsupported: <the message>)", q.Name, err)
			case err != nil && !errors.As(err, &pe):
				t.Errorf("%s: not a planner error: %v", q.Name, err)
			case err != nil && pe.Msg != q.Unsupported:
				t.Errorf("%s.sql says unsupported: %q\nthe planner says:     %q", q.Name, q.Unsupported, pe.Msg)
			}
			if strings.Contains(strings.ToUpper(q.SQL), "TUMBLE(") || strings.Contains(strings.ToUpper(q.SQL), "HOP(") ||
				strings.Contains(strings.ToUpper(q.SQL), "SESSION(") {
				if q.Oracle == "" && q.Unsupported == "" {
					t.Errorf("%s uses a window table function, which DuckDB lacks: give it an -- oracle: section", q.Name)
				}
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text          string
		sql, oracle, status string
		header, err         string
	}{
		{name: "plain", text: "-- q1: Title. More.\n-- Standard: x.\nSELECT 1\nFROM t\n",
			header: "q1: Title. More.\nStandard: x.", sql: "SELECT 1\nFROM t"},
		{name: "status", text: "-- q6: T.\n-- status: unsupported: function avg() is not supported yet\nSELECT 1\n",
			header: "q6: T.", sql: "SELECT 1", status: "function avg() is not supported yet"},
		{name: "oracle", text: "-- q5: T.\nSELECT a FROM HOP(b)\n\n-- oracle: DuckDB has no HOP.\nSELECT a FROM b\n",
			header: "q5: T.", sql: "SELECT a FROM HOP(b)", oracle: "-- oracle: DuckDB has no HOP.\nSELECT a FROM b"},
		{name: "no header", text: "SELECT 1\n", err: "no header comment"},
		{name: "no sql", text: "-- q1: T.\n", err: "no SQL"},
	} {
		t.Run("case="+strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			q, err := parse("qx", tc.text)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.SQL != tc.sql || q.Oracle != tc.oracle || q.Unsupported != tc.status || q.Header != tc.header {
				t.Errorf("got sql %q oracle %q status %q header %q", q.SQL, q.Oracle, q.Unsupported, q.Header)
			}
		})
	}
}

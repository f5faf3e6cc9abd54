package pgwire

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitStatements(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"only-separators", " ;; ; ", nil},
		{"only-comment", "-- hi\n/* there */", nil},
		{"two", "SELECT 1; SELECT 2;", []string{"SELECT 1", "SELECT 2"}},
		{"semicolon-in-string", "SELECT ';' ; SELECT 'it''s;'", []string{"SELECT ';'", "SELECT 'it''s;'"}},
		{"semicolon-in-ident", `SELECT 1 AS ";"; SELECT 2`, []string{`SELECT 1 AS ";"`, "SELECT 2"}},
		{"semicolon-in-comments", "SELECT 1 -- ;\n; /* ; /* ; */ ; */ SELECT 2", []string{"SELECT 1 -- ;", "/* ; /* ; */ ; */ SELECT 2"}},
		{"dollar-quoted", "SELECT $x$;$x$; SELECT $$a;b$$", []string{"SELECT $x$;$x$", "SELECT $$a;b$$"}},
		{"escape-string", `SELECT E'\';'; SELECT 2`, []string{`SELECT E'\';'`, "SELECT 2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := splitStatements(tc.in)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	cases := []struct {
		name string
		in   string
		max  int
		out  string
	}{
		{"simple", "SELECT $1, $2", 2, "SELECT <1>, <2>"},
		{"two-digits", "SELECT $10", 10, "SELECT <10>"},
		{"in-string", "SELECT '$1', $1", 1, "SELECT '$1', <1>"},
		{"in-ident-and-comment", `SELECT "$1", a$1, $1 -- $2`, 1, `SELECT "$1", a$1, <1> -- $2`},
		{"dollar-quote", "SELECT $$ $1 $$, $1", 1, "SELECT $$ $1 $$, <1>"},
		{"cast", "SELECT $1::int", 1, "SELECT <1>::int"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := maxParam(tc.in); got != tc.max {
				t.Errorf("maxParam = %d, want %d", got, tc.max)
			}
			lits := make([]string, 10)
			for i := range lits {
				lits[i] = "<" + string(rune('0'+i+1)) + ">"
			}
			lits[9] = "<10>"
			if got := substitute(tc.in, lits); got != tc.out {
				t.Errorf("substitute = %q, want %q", got, tc.out)
			}
		})
	}
}

func TestParseStatement(t *testing.T) {
	cases := []struct {
		in   string
		kind stmtKind
		name string
		val  string
	}{
		{"SET extra_float_digits = 3", kindSet, "extra_float_digits", "3"},
		{"set SESSION search_path TO 'a', b", kindSet, "search_path", "a, b"},
		{"SET TIME ZONE 'Europe/Berlin'", kindSet, "timezone", "Europe/Berlin"},
		{"SHOW transaction isolation level", kindShow, "transaction_isolation", ""},
		{"select version()", kindVersion, "", ""},
		{"  SELECT\n pg_catalog.VERSION ( )", kindVersion, "", ""},
		{"begin read only", kindBegin, "", ""},
		{"insert into x values (1)", kindRefused, "", ""},
		{"PREPARE p (int) AS SELECT $1", kindPrepare, "p", ""},
		{"EXECUTE p (1)", kindExecute, "p", ""},
		{"DEALLOCATE PREPARE ALL", kindDeallocate, "all", ""},
		{"WITH x AS (SELECT 1) SELECT * FROM x", kindQuery, "", ""},
	}
	for _, tc := range cases {
		st, err := parseStatement(tc.in, nil)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if st.kind != tc.kind || st.name != tc.name || st.value != tc.val {
			t.Errorf("%q: kind %d name %q value %q, want %d %q %q", tc.in, st.kind, st.name, st.value, tc.kind, tc.name, tc.val)
		}
	}
	st, _ := parseStatement("SELECT $1::bigint, $2, $3::double precision, $4::numeric(10,2), $5::timestamp with time zone", nil)
	if got := st.paramOIDs; len(got) != 5 || got[0] != oidInt8 || got[1] != 0 || got[2] != oidFloat8 || got[3] != oidNumeric || got[4] != oidTimestamptz {
		t.Errorf("inferred %v", got)
	}
}

func TestFormatFloat(t *testing.T) {
	for in, want := range map[float64]string{0.1: "0.1", 1e15: "1e+15", 123456789012345: "123456789012345", 1e-5: "1e-05", 0.0001: "0.0001", -2.5: "-2.5"} {
		if got := formatFloat(in, 64); got != want {
			t.Errorf("formatFloat(%v) = %q, want %q", in, got, want)
		}
	}
}

// FuzzQuoteString checks the property parameter substitution relies on:
// for any text s that quoteString accepts, "SELECT <quoted> ; x" scans as
// exactly one string token holding s, followed by the rest untouched, so
// a value can never end its literal early or start a comment.
func FuzzQuoteString(f *testing.F) {
	for _, s := range []string{"", "'", "''", `\'`, "a'; DROP TABLE t; --", "$$", "/*", "\x00", "é", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := quoteString(s)
		if err != nil {
			if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
				t.Fatalf("refused valid %q: %v", s, err)
			}
			return
		}
		sql := "SELECT " + q + " ; x"
		toks := scan(sql)
		var strs []token
		for _, tk := range toks {
			if tk.kind == tokString {
				strs = append(strs, tk)
			}
			if tk.kind == tokComment || tk.kind == tokPlaceholder {
				t.Fatalf("%q scans a %d token", sql, tk.kind)
			}
		}
		if len(strs) != 1 || sql[strs[0].start:strs[0].end] != q {
			t.Fatalf("%q: string tokens %v", sql, strs)
		}
		body := q[1 : len(q)-1]
		if strings.ReplaceAll(body, "''", "'") != s {
			t.Fatalf("round trip of %q", s)
		}
		if got := splitStatements(sql); len(got) != 2 || got[1] != "x" {
			t.Fatalf("split %q: %q", sql, got)
		}
	})
}

// FuzzScan checks that scanning never panics, covers the input in order,
// and that splitting and substituting are consistent with it.
func FuzzScan(f *testing.F) {
	for _, s := range []string{"SELECT $1; SELECT '$2'", "$$", "$a$ x", "E'\\", "/* /* */", "--", `"`, "a$1$2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pos := 0
		for _, tk := range scan(s) {
			if tk.start != pos || tk.end <= tk.start || tk.end > len(s) {
				t.Fatalf("%q: token %+v after %d", s, tk, pos)
			}
			pos = tk.end
		}
		if pos != len(s) {
			t.Fatalf("%q: tokens end at %d", s, pos)
		}
		n := maxParam(s)
		lits := make([]string, n)
		for i := range lits {
			lits[i] = "NULL"
		}
		if maxParam(substitute(s, lits)) > n {
			t.Fatalf("%q: substitution added placeholders", s)
		}
		_ = splitStatements(s)
		_ = words(s, 3)
	})
}

package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/stratadb/strata/engine/core"
)

// result is a query answer as the CLI renders it and the HTTP API sends it.
type result struct {
	Epoch   core.Epoch  `json:"epoch"`
	Columns []resultCol `json:"columns"`
	Rows    [][]any     `json:"rows"`
}

type resultCol struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// readResult drains r into a result, converting values to JSON-friendly Go
// values (numbers, strings, booleans, nil).
func readResult(r array.RecordReader, epoch core.Epoch) (*result, error) {
	res := &result{Epoch: epoch, Rows: [][]any{}}
	for _, f := range r.Schema().Fields() {
		t := f.Type.String()
		if ct, ok := core.TypeOf(f.Type); ok {
			t = ct.Name
		}
		res.Columns = append(res.Columns, resultCol{Name: f.Name, Type: t})
	}
	for r.Next() {
		b := r.RecordBatch()
		for i := 0; i < int(b.NumRows()); i++ {
			row := make([]any, b.NumCols())
			for c := range row {
				v := core.ValueAt(b.Column(c), i)
				if b.Column(c).DataType().ID() == arrow.DATE32 && v != nil {
					row[c] = core.FormatDate(v)
					continue
				}
				if s, ok := v.(string); ok && b.Column(c).DataType().ID() == arrow.DECIMAL128 {
					// DuckDB's sum(bigint) is a HUGEINT, which reaches us
					// as decimal(38,0): keep it a JSON number.
					row[c] = json.Number(s)
					continue
				}
				row[c] = jsonValue(v)
			}
			res.Rows = append(res.Rows, row)
		}
	}
	return res, r.Err()
}

// jsonValue makes a value from core.ValueAt safe for encoding/json.
func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time, []byte:
		return core.FormatValue(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprint(x)
		}
	case string:
		if !utf8.ValidString(x) {
			return strings.ToValidUTF8(x, "\uFFFD")
		}
	}
	return v
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case float64:
		return fmt.Sprint(x)
	case json.Number:
		return x.String()
	}
	return core.FormatValue(v)
}

// render writes res in format: table (aligned, with a row count and the
// epoch), json (one object per row, one a line) or csv (header first).
func render(w io.Writer, res *result, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		for _, row := range res.Rows {
			// Preserve column order: encode the object by hand.
			var b strings.Builder
			b.WriteByte('{')
			for i, c := range res.Columns {
				if i > 0 {
					b.WriteByte(',')
				}
				k, _ := json.Marshal(c.Name)
				v, err := json.Marshal(row[i])
				if err != nil {
					return err
				}
				b.Write(k)
				b.WriteByte(':')
				b.Write(v)
			}
			b.WriteByte('}')
			if _, err := fmt.Fprintln(w, b.String()); err != nil {
				return err
			}
		}
		_ = enc
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		hdr := make([]string, len(res.Columns))
		for i, c := range res.Columns {
			hdr[i] = c.Name
		}
		if err := cw.Write(hdr); err != nil {
			return err
		}
		for _, row := range res.Rows {
			rec := make([]string, len(row))
			for i, v := range row {
				if v == nil {
					rec[i] = ""
				} else {
					rec[i] = text(v)
				}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "table", "":
		widths := make([]int, len(res.Columns))
		cells := make([][]string, len(res.Rows))
		for i, c := range res.Columns {
			widths[i] = utf8.RuneCountInString(c.Name)
		}
		for r, row := range res.Rows {
			cells[r] = make([]string, len(row))
			for i, v := range row {
				s := text(v)
				cells[r][i] = s
				widths[i] = max(widths[i], utf8.RuneCountInString(s))
			}
		}
		line := func(vals []string, right []bool) {
			var b strings.Builder
			for i, v := range vals {
				if i > 0 {
					b.WriteString(" | ")
				}
				pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v))
				if right != nil && right[i] {
					b.WriteString(pad + v)
				} else {
					b.WriteString(v + pad)
				}
			}
			fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		}
		hdr := make([]string, len(res.Columns))
		right := make([]bool, len(res.Columns))
		for i, c := range res.Columns {
			hdr[i] = c.Name
			switch {
			case c.Type == "integer", c.Type == "bigint", c.Type == "double",
				strings.HasPrefix(c.Type, "decimal"), strings.HasPrefix(c.Type, "int"), strings.HasPrefix(c.Type, "uint"), strings.HasPrefix(c.Type, "float"):
				right[i] = true
			}
		}
		line(hdr, nil)
		seps := make([]string, len(widths))
		for i, n := range widths {
			seps[i] = strings.Repeat("-", n)
		}
		fmt.Fprintln(w, strings.Join(seps, "-+-"))
		for _, row := range cells {
			line(row, right)
		}
		noun := "rows"
		if len(res.Rows) == 1 {
			noun = "row"
		}
		fmt.Fprintf(w, "(%d %s, epoch %d)\n", len(res.Rows), noun, res.Epoch)
		return nil
	}
	return fmt.Errorf("unknown format %q (want table, json or csv)", format)
}

package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// JSON decodes one JSON object per record. Keys not in the schema are
// ignored; a missing key or null is SQL NULL; a value of the wrong JSON type
// for its column rejects the record.
//
//	boolean            true / false
//	integer, bigint    an integral number in range
//	double             a number
//	varchar, bytea     a string
//	date               "2006-01-02"
//	timestamp          RFC 3339, "2006-01-02 15:04:05[.ffffff]", or epoch milliseconds
type JSON struct {
	cols    []core.Column
	byName  map[string]int
	b       *array.RecordBuilder
	schema  *arrow.Schema
	fields  map[string]json.RawMessage
	vals    []any // decoded values of the current record, by column
	weights *array.Int64Builder
	spans   []span    // fast path: the current record's values, by column
	scr     []scratch // fast path: converted values, by column
	gen     uint32
	slow    bool // only the encoding/json path (tests compare the two)
}

// NewJSON returns a JSON decoder for cols.
func NewJSON(cols []core.Column, mem memory.Allocator) *JSON {
	schema := core.ChangelogSchema(core.ArrowSchema(cols))
	d := &JSON{
		cols:   cols,
		byName: make(map[string]int, len(cols)),
		b:      array.NewRecordBuilder(mem, schema),
		schema: schema,
		vals:   make([]any, len(cols)),
		spans:  make([]span, len(cols)),
		scr:    make([]scratch, len(cols)),
	}
	for i, c := range cols {
		d.byName[c.Name] = i
	}
	d.weights = d.b.Field(len(cols)).(*array.Int64Builder)
	return d
}

// Append implements Decoder.
func (d *JSON) Append(raw []byte) error {
	if !d.slow && d.scan(raw) && d.convert() {
		d.appendScratch()
		return nil
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("malformed JSON: want an object, got %q", clip(raw))
	}
	clear(d.fields)
	if err := json.Unmarshal(raw, &d.fields); err != nil {
		return fmt.Errorf("malformed JSON: %v", err)
	}
	for i, c := range d.cols {
		v, ok := d.fields[c.Name]
		if !ok || string(v) == "null" {
			d.vals[i] = nil
			continue
		}
		x, err := decodeValue(c.Type, v)
		if err != nil {
			return fmt.Errorf("column %q: %v", c.Name, err)
		}
		d.vals[i] = x
	}
	for i, c := range d.cols {
		appendValue(d.b.Field(i), c.Type, d.vals[i])
	}
	d.weights.Append(1)
	return nil
}

// Len implements Decoder.
func (d *JSON) Len() int { return d.weights.Len() }

// Flush implements Decoder.
func (d *JSON) Flush() arrow.RecordBatch {
	if d.weights.Len() == 0 {
		return nil
	}
	return d.b.NewRecordBatch()
}

// Release implements Decoder.
func (d *JSON) Release() { d.b.Release() }

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func jsonKind(v json.RawMessage) string {
	switch v[0] {
	case '"':
		return "string " + clip(v)
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean " + string(v)
	}
	return "number " + clip(v)
}

func decodeValue(t core.Type, v json.RawMessage) (any, error) {
	wrong := func() error { return fmt.Errorf("want %s, got %s", t.Name, jsonKind(v)) }
	switch t.Arrow.ID() {
	case arrow.BOOL:
		switch string(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, wrong()
	case arrow.INT32, arrow.INT64:
		if v[0] == '"' || v[0] == '{' || v[0] == '[' || v[0] == 't' || v[0] == 'f' {
			return nil, wrong()
		}
		bits := 64
		if t.Arrow.ID() == arrow.INT32 {
			bits = 32
		}
		n, err := strconv.ParseInt(string(v), 10, bits)
		if err != nil {
			f, ferr := strconv.ParseFloat(string(v), 64)
			if ferr == nil && f == math.Trunc(f) && math.Abs(f) < math.Ldexp(1, bits-1) {
				return int64(f), nil
			}
			return nil, fmt.Errorf("want %s, got %s (not an integer in range)", t.Name, jsonKind(v))
		}
		return n, nil
	case arrow.FLOAT64:
		if v[0] == '"' || v[0] == '{' || v[0] == '[' || v[0] == 't' || v[0] == 'f' {
			return nil, wrong()
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil, wrong()
		}
		return f, nil
	case arrow.STRING, arrow.BINARY:
		if v[0] != '"' {
			return nil, wrong()
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, wrong()
		}
		return s, nil
	case arrow.DATE32:
		var s string
		if v[0] != '"' || json.Unmarshal(v, &s) != nil {
			return nil, wrong()
		}
		tm, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, fmt.Errorf("want date as \"YYYY-MM-DD\", got %q", s)
		}
		return tm, nil
	case arrow.TIMESTAMP:
		if v[0] == '"' {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return nil, wrong()
			}
			tm, err := ParseTimestamp(s)
			if err != nil {
				return nil, err
			}
			return tm, nil
		}
		if v[0] == '{' || v[0] == '[' || v[0] == 't' || v[0] == 'f' {
			return nil, wrong()
		}
		ms, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("want timestamp as a string or epoch milliseconds, got %s", jsonKind(v))
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	return nil, fmt.Errorf("type %s is not supported by the json format", t.Name)
}

var timestampLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTimestamp parses the timestamp spellings the formats accept.
func ParseTimestamp(s string) (time.Time, error) {
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("want timestamp like \"2006-01-02 15:04:05\" or RFC 3339, got %q", s)
}

func appendValue(b array.Builder, t core.Type, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch bb := b.(type) {
	case *array.BooleanBuilder:
		bb.Append(v.(bool))
	case *array.Int32Builder:
		bb.Append(int32(v.(int64)))
	case *array.Int64Builder:
		bb.Append(v.(int64))
	case *array.Float64Builder:
		bb.Append(v.(float64))
	case *array.StringBuilder:
		bb.Append(v.(string))
	case *array.BinaryBuilder:
		bb.AppendString(v.(string))
	case *array.Date32Builder:
		bb.Append(arrow.Date32FromTime(v.(time.Time)))
	case *array.TimestampBuilder:
		bb.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
	default:
		panic(fmt.Sprintf("format: no builder for %s", t.Name))
	}
}

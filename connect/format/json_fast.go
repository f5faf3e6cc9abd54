package format

import (
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// The fast path decodes the common record — a flat object of strings
// without escapes, numbers, booleans and nulls — in one pass, straight into
// typed scratch values, without allocating. Anything else (escapes, nested
// values, a value it cannot convert) falls back to the encoding/json path,
// which decides and words every error, so both paths accept exactly the same
// records with the same values (FuzzJSONFastPath checks it).

type span struct {
	kind byte // '"' string, '0' number, 't' true, 'f' false, 'n' null
	b    []byte
	gen  uint32 // the record that set it
}

type scratch struct {
	null bool
	i    int64
	f    float64
	s    string
	b    bool
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// scan parses raw into d.spans; false means "take the slow path".
func (d *JSON) scan(raw []byte) bool {
	d.gen++
	i, n := 0, len(raw)
	skip := func() {
		for i < n && isSpace(raw[i]) {
			i++
		}
	}
	skip()
	if i >= n || raw[i] != '{' {
		return false
	}
	i++
	skip()
	if i < n && raw[i] == '}' {
		i++
		skip()
		return i == n
	}
	for {
		if i >= n || raw[i] != '"' {
			return false
		}
		i++
		ks := i
		for i < n && raw[i] != '"' {
			if raw[i] == '\\' || raw[i] < 0x20 {
				return false
			}
			i++
		}
		if i >= n {
			return false
		}
		key := raw[ks:i]
		i++
		skip()
		if i >= n || raw[i] != ':' {
			return false
		}
		i++
		skip()
		if i >= n {
			return false
		}
		var sp span
		switch c := raw[i]; {
		case c == '"':
			i++
			vs := i
			for i < n && raw[i] != '"' {
				if raw[i] == '\\' || raw[i] < 0x20 {
					return false
				}
				i++
			}
			if i >= n {
				return false
			}
			sp = span{kind: '"', b: raw[vs:i]}
			i++
		case c == '-' || (c >= '0' && c <= '9'):
			vs := i
			for i < n && (raw[i] == '-' || raw[i] == '+' || raw[i] == '.' || raw[i] == 'e' || raw[i] == 'E' || (raw[i] >= '0' && raw[i] <= '9')) {
				i++
			}
			if !jsonNumber(raw[vs:i]) {
				return false
			}
			sp = span{kind: '0', b: raw[vs:i]}
		case c == 't' || c == 'f' || c == 'n':
			lit := map[byte]string{'t': "true", 'f': "false", 'n': "null"}[c]
			if n-i < len(lit) || string(raw[i:i+len(lit)]) != lit {
				return false
			}
			i += len(lit)
			sp = span{kind: c}
		default:
			return false // objects, arrays, garbage: the slow path decides
		}
		if col, ok := d.byName[string(key)]; ok {
			sp.gen = d.gen
			d.spans[col] = sp
		}
		skip()
		if i >= n {
			return false
		}
		if raw[i] == ',' {
			i++
			skip()
			continue
		}
		if raw[i] != '}' {
			return false
		}
		i++
		skip()
		return i == n
	}
}

// jsonNumber checks the JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func jsonNumber(b []byte) bool {
	i, n := 0, len(b)
	if i < n && b[i] == '-' {
		i++
	}
	if i >= n {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < n && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < n && b[i] == '.' {
		i++
		d := i
		for i < n && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < n && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < n && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == n
}

func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func plainInt(b []byte) bool {
	for _, c := range b {
		if c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

// convert turns the scanned spans into typed scratch values; false means a
// value needs the slow path (which also words the error).
func (d *JSON) convert() bool {
	for i, c := range d.cols {
		sp := &d.spans[i]
		sc := &d.scr[i]
		if sp.gen != d.gen || sp.kind == 'n' {
			sc.null = true
			continue
		}
		sc.null = false
		switch c.Type.Arrow.ID() {
		case arrow.BOOL:
			if sp.kind != 't' && sp.kind != 'f' {
				return false
			}
			sc.b = sp.kind == 't'
		case arrow.INT32, arrow.INT64:
			if sp.kind != '0' || !plainInt(sp.b) {
				return false
			}
			bits := 64
			if c.Type.Arrow.ID() == arrow.INT32 {
				bits = 32
			}
			v, err := strconv.ParseInt(unsafeString(sp.b), 10, bits)
			if err != nil {
				return false
			}
			sc.i = v
		case arrow.FLOAT64:
			if sp.kind != '0' {
				return false
			}
			v, err := strconv.ParseFloat(unsafeString(sp.b), 64)
			if err != nil {
				return false
			}
			sc.f = v
		case arrow.STRING, arrow.BINARY:
			if sp.kind != '"' || !utf8.Valid(sp.b) {
				return false
			}
			sc.s = unsafeString(sp.b)
		case arrow.DATE32:
			if sp.kind != '"' {
				return false
			}
			t, err := time.Parse("2006-01-02", unsafeString(sp.b))
			if err != nil {
				return false
			}
			sc.i = int64(arrow.Date32FromTime(t))
		case arrow.TIMESTAMP:
			if tt, ok := c.Type.Arrow.(*arrow.TimestampType); !ok || tt.TimeZone != "" || tt.Unit != arrow.Microsecond {
				return false
			}
			switch sp.kind {
			case '"':
				us, ok := fastTimestamp(sp.b)
				if !ok {
					return false
				}
				sc.i = us
			case '0':
				if !plainInt(sp.b) {
					return false
				}
				ms, err := strconv.ParseInt(unsafeString(sp.b), 10, 64)
				if err != nil {
					return false
				}
				sc.i = time.UnixMilli(ms).UnixMicro()
			default:
				return false
			}
		default:
			return false
		}
	}
	return true
}

// fastTimestamp parses "YYYY-MM-DD HH:MM:SS[.fraction]" (or with a T) into
// microseconds, as time.Parse would; anything else is left to it.
func fastTimestamp(b []byte) (int64, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	num := func(s []byte) (int, bool) {
		v := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	if day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return 0, false
	}
	nanos := 0
	if len(b) > 19 {
		frac := b[20:]
		if b[19] != '.' || len(frac) == 0 || len(frac) > 9 {
			return 0, false
		}
		f, ok := num(frac)
		if !ok {
			return 0, false
		}
		for k := len(frac); k < 9; k++ {
			f *= 10
		}
		nanos = f
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nanos, time.UTC).UnixMicro(), true
}

// appendScratch appends the converted record.
func (d *JSON) appendScratch() {
	for i := range d.cols {
		sc := &d.scr[i]
		f := d.b.Field(i)
		if sc.null {
			f.AppendNull()
			continue
		}
		switch bb := f.(type) {
		case *array.BooleanBuilder:
			bb.Append(sc.b)
		case *array.Int32Builder:
			bb.Append(int32(sc.i))
		case *array.Int64Builder:
			bb.Append(sc.i)
		case *array.Float64Builder:
			bb.Append(sc.f)
		case *array.StringBuilder:
			bb.Append(sc.s)
		case *array.BinaryBuilder:
			bb.AppendString(sc.s)
		case *array.Date32Builder:
			bb.Append(arrow.Date32(sc.i))
		case *array.TimestampBuilder:
			bb.Append(arrow.Timestamp(sc.i))
		}
	}
	d.weights.Append(1)
}

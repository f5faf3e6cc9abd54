package pebble

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/stratadb/strata/engine/core"
)

const rowencVersion byte = 0x01

// rowEncoder encodes the rows of one changelog batch (borrowed) as values.
type rowEncoder struct {
	cols []arrow.Array
	encs []func(dst []byte, i int) []byte
}

func newRowEncoder(b arrow.RecordBatch, ncols int) (*rowEncoder, error) {
	e := &rowEncoder{cols: b.Columns()[:ncols], encs: make([]func([]byte, int) []byte, ncols)}
	for c, arr := range e.cols {
		switch a := arr.(type) {
		case *array.Boolean:
			e.encs[c] = func(dst []byte, i int) []byte {
				if a.Value(i) {
					return append(dst, 1)
				}
				return append(dst, 0)
			}
		case *array.Int32:
			vs := a.Int32Values()
			e.encs[c] = func(dst []byte, i int) []byte { return binary.AppendVarint(dst, int64(vs[i])) }
		case *array.Int64:
			vs := a.Int64Values()
			e.encs[c] = func(dst []byte, i int) []byte { return binary.AppendVarint(dst, vs[i]) }
		case *array.Float64:
			vs := a.Float64Values()
			e.encs[c] = func(dst []byte, i int) []byte {
				return binary.LittleEndian.AppendUint64(dst, math.Float64bits(vs[i]))
			}
		case *array.String:
			e.encs[c] = func(dst []byte, i int) []byte {
				s := a.Value(i)
				return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
			}
		case *array.Binary:
			e.encs[c] = func(dst []byte, i int) []byte {
				s := a.Value(i)
				return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
			}
		case *array.Date32:
			vs := a.Date32Values()
			e.encs[c] = func(dst []byte, i int) []byte { return binary.AppendVarint(dst, int64(vs[i])) }
		case *array.Timestamp:
			vs := a.TimestampValues()
			e.encs[c] = func(dst []byte, i int) []byte { return binary.AppendVarint(dst, int64(vs[i])) }
		default:
			return nil, fmt.Errorf("unsupported column type %s", arr.DataType())
		}
	}
	return e, nil
}

// appendRow appends the encoding of row i, with multiplicity mult if the
// view is a multiset (mult > 0), or without one (mult == 0).
func (e *rowEncoder) appendRow(dst []byte, i int, mult int64) []byte {
	dst = append(dst, rowencVersion)
	if mult > 0 {
		dst = binary.AppendUvarint(dst, uint64(mult))
	}
	start := len(dst)
	for range (len(e.cols) + 7) / 8 {
		dst = append(dst, 0)
	}
	for c, arr := range e.cols {
		if arr.IsNull(i) {
			dst[start+c/8] |= 1 << (c % 8)
			continue
		}
		dst = e.encs[c](dst, i)
	}
	return dst
}

// setMultiplicity returns the encoding of the row in value (as written by
// appendRow with a multiplicity) with multiplicity mult, appended to dst.
func setMultiplicity(dst, value []byte, mult int64) ([]byte, error) {
	if len(value) < 1 || value[0] != rowencVersion {
		return nil, fmt.Errorf("stored row has unknown encoding version")
	}
	_, n := binary.Uvarint(value[1:])
	if n <= 0 {
		return nil, fmt.Errorf("stored row has a corrupt multiplicity")
	}
	dst = append(dst, rowencVersion)
	dst = binary.AppendUvarint(dst, uint64(mult))
	return append(dst, value[1+n:]...), nil
}

// multiplicity returns the multiplicity of a stored multiset row.
func multiplicity(value []byte) (int64, error) {
	if len(value) < 1 || value[0] != rowencVersion {
		return 0, fmt.Errorf("stored row has unknown encoding version")
	}
	m, n := binary.Uvarint(value[1:])
	if n <= 0 || m > math.MaxInt64 {
		return 0, fmt.Errorf("stored row has a corrupt multiplicity")
	}
	return int64(m), nil
}

// decodeRow decodes a stored row of columns cols into core.ValueAt form.
// multiset says whether the value carries a multiplicity (returned, else 1).
func decodeRow(cols []core.Column, value []byte, multiset bool) ([]any, int64, error) {
	corrupt := func(what string) error { return fmt.Errorf("stored row is corrupt: %s", what) }
	if len(value) < 1 || value[0] != rowencVersion {
		return nil, 0, fmt.Errorf("stored row has unknown encoding version")
	}
	b := value[1:]
	mult := int64(1)
	if multiset {
		m, n := binary.Uvarint(b)
		if n <= 0 || m > math.MaxInt64 {
			return nil, 0, corrupt("multiplicity")
		}
		mult, b = int64(m), b[n:]
	}
	nb := (len(cols) + 7) / 8
	if len(b) < nb {
		return nil, 0, corrupt("NULL bitmap")
	}
	nulls, b := b[:nb], b[nb:]
	row := make([]any, len(cols))
	for c, col := range cols {
		if nulls[c/8]&(1<<(c%8)) != 0 {
			continue
		}
		switch col.Type.Arrow.ID() {
		case arrow.BOOL:
			if len(b) < 1 {
				return nil, 0, corrupt(col.Name)
			}
			row[c], b = b[0] != 0, b[1:]
		case arrow.INT32, arrow.INT64, arrow.DATE32, arrow.TIMESTAMP:
			x, n := binary.Varint(b)
			if n <= 0 {
				return nil, 0, corrupt(col.Name)
			}
			b = b[n:]
			switch col.Type.Arrow.ID() {
			case arrow.INT32:
				row[c] = int32(x)
			case arrow.INT64:
				row[c] = x
			case arrow.DATE32:
				row[c] = arrow.Date32(x).ToTime()
			default:
				row[c] = time.UnixMicro(x).UTC()
			}
		case arrow.FLOAT64:
			if len(b) < 8 {
				return nil, 0, corrupt(col.Name)
			}
			row[c], b = math.Float64frombits(binary.LittleEndian.Uint64(b)), b[8:]
		case arrow.STRING, arrow.BINARY:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return nil, 0, corrupt(col.Name)
			}
			s := b[n : n+int(l)]
			b = b[n+int(l):]
			if col.Type.Arrow.ID() == arrow.STRING {
				row[c] = string(s)
			} else {
				row[c] = append([]byte{}, s...)
			}
		default:
			return nil, 0, fmt.Errorf("unsupported column type %s", col.Type.Name)
		}
	}
	if len(b) != 0 {
		return nil, 0, corrupt("trailing bytes")
	}
	return row, mult, nil
}

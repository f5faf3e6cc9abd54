package udf

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Layout of ABI v1 (docs/udf-abi.md). All integers are little-endian u32.
const (
	frameHeaderSize = 96 // abi, nrows, nargs, ngroups, groups, 3 reserved, states col, states2 col
	colSize         = 32 // type, len, null_count, validity, offsets, values, values_len, reserved
	resultSize      = 48 // nrows, nerrors, errors, parents, data col
	errorEntrySize  = 12 // row, msg_ptr, msg_len
	maxErrorMsg     = 4096
	minArena        = 64 << 10
)

// Type codes of ABI v1.
const (
	codeBoolean   = 1
	codeInt32     = 2
	codeInt64     = 3
	codeDouble    = 4
	codeVarchar   = 5
	codeBytea     = 6
	codeTimestamp = 7
)

func typeCode(dt arrow.DataType) (uint32, int) {
	switch dt.ID() {
	case arrow.BOOL:
		return codeBoolean, 0
	case arrow.INT32:
		return codeInt32, 4
	case arrow.INT64:
		return codeInt64, 8
	case arrow.FLOAT64:
		return codeDouble, 8
	case arrow.STRING:
		return codeVarchar, 0
	case arrow.BINARY:
		return codeBytea, 0
	case arrow.TIMESTAMP:
		if dt.(*arrow.TimestampType).Unit == arrow.Microsecond {
			return codeTimestamp, 8
		}
	}
	return 0, 0
}

func align8(n int) int { return (n + 7) &^ 7 }

func bitmapLen(n int) int { return (n + 7) / 8 }

// colBytes is how many arena bytes a column's buffers take.
func colBytes(a arrow.Array) int {
	n := a.Len()
	size := 0
	if a.NullN() > 0 {
		size += align8(bitmapLen(n))
	}
	code, w := typeCode(a.DataType())
	switch code {
	case codeBoolean:
		size += align8(bitmapLen(n))
	case codeVarchar, codeBytea:
		size += align8(4*(n+1)) + align8(len(varBytes(a)))
	default:
		size += align8(n * w)
	}
	return size
}

func varOffsets(a arrow.Array) []int32 {
	switch x := a.(type) {
	case *array.String:
		return x.ValueOffsets()
	case *array.Binary:
		return x.ValueOffsets()
	}
	return nil
}

func varBytes(a arrow.Array) []byte {
	if a.Len() == 0 {
		return nil
	}
	switch x := a.(type) {
	case *array.String:
		return x.ValueBytes()
	case *array.Binary:
		return x.ValueBytes()
	}
	return nil
}

// writer lays a frame out in the instance's arena. buf is the arena as a
// slice of guest memory; ptr is its guest address.
type writer struct {
	buf []byte
	ptr uint32
	pos int
}

func (w *writer) u32(at int, v uint32) { binary.LittleEndian.PutUint32(w.buf[at:], v) }

// reserve returns the guest address and the slice of n bytes at the cursor.
func (w *writer) reserve(n int) (uint32, []byte) {
	p := w.pos
	w.pos += align8(n)
	return w.ptr + uint32(p), w.buf[p : p+n]
}

// column copies a's buffers into the arena and writes its descriptor at at.
// This is the one copy of an argument: guest code can address only its own
// linear memory. Slices (non-zero offsets) are normalised on the way.
func (w *writer) column(at int, a arrow.Array) {
	clear(w.buf[at : at+colSize])
	n := a.Len()
	code, width := typeCode(a.DataType())
	w.u32(at, code)
	w.u32(at+4, uint32(n))
	w.u32(at+8, uint32(a.NullN()))
	data := a.Data()
	off := data.Offset()
	bufs := data.Buffers()
	if a.NullN() > 0 {
		p, dst := w.reserve(bitmapLen(n))
		copyBits(dst, bufs[0].Bytes(), off, n)
		w.u32(at+12, p)
	}
	switch code {
	case codeBoolean:
		p, dst := w.reserve(bitmapLen(n))
		if n > 0 {
			copyBits(dst, bufs[1].Bytes(), off, n)
		}
		w.u32(at+20, p)
		w.u32(at+24, uint32(bitmapLen(n)))
	case codeVarchar, codeBytea:
		offs := varOffsets(a)
		p, dst := w.reserve(4 * (n + 1))
		if n == 0 || len(offs) == 0 {
			binary.LittleEndian.PutUint32(dst, 0)
		} else if base := offs[0]; base == 0 {
			copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(&offs[0])), 4*(n+1)))
		} else {
			for i, o := range offs[:n+1] {
				binary.LittleEndian.PutUint32(dst[4*i:], uint32(o-base))
			}
		}
		w.u32(at+16, p)
		vals := varBytes(a)
		p, dst = w.reserve(len(vals))
		copy(dst, vals)
		w.u32(at+20, p)
		w.u32(at+24, uint32(len(vals)))
	default:
		p, dst := w.reserve(n * width)
		if n > 0 {
			copy(dst, bufs[1].Bytes()[off*width:(off+n)*width])
		}
		w.u32(at+20, p)
		w.u32(at+24, uint32(n*width))
	}
}

// copyBits copies n bits of src starting at bit off to dst at bit 0.
func copyBits(dst, src []byte, off, n int) {
	if off%8 == 0 {
		copy(dst, src[off/8:off/8+bitmapLen(n)])
		return
	}
	clear(dst)
	bitutil.CopyBitmap(src, off, n, dst, 0)
}

// reader reads a result out of guest memory, checking every pointer.
type reader struct {
	inst *instance
}

func (r reader) bytes(ptr, n uint32) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	return r.inst.mem.Read(ptr, n)
}

// colDesc is a column descriptor as the guest wrote it.
type colDesc struct {
	code, n, nulls, validity, offsets, values, valuesLen uint32
}

func (r reader) desc(ptr uint32) (colDesc, bool) {
	b, ok := r.bytes(ptr, colSize)
	if !ok {
		return colDesc{}, false
	}
	le := binary.LittleEndian
	return colDesc{le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:]), le.Uint32(b[16:]), le.Uint32(b[20:]), le.Uint32(b[24:])}, true
}

// badResult is a bad-result-buffer failure at a row (-1: unknown).
type badResult struct {
	row    int
	detail string
}

func (b *badResult) Error() string { return b.detail }

func bad(row int, format string, args ...any) *badResult {
	return &badResult{row: row, detail: fmt.Sprintf(format, args...)}
}

// column copies a result column out of guest memory into Arrow buffers
// from mem (the one copy of a result: guest memory is reused by the next
// call). Rows listed in nullRows become NULL. The caller owns the array.
func (r reader) column(d colDesc, dt arrow.DataType, nullRows []RowError, mem memory.Allocator) (arrow.Array, error) {
	code, width := typeCode(dt)
	if d.code != code {
		return nil, bad(-1, "result type code %d, want %d (%s)", d.code, code, dt)
	}
	n := int(d.n)
	bufs := make([]*memory.Buffer, 2, 3)
	defer func() {
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
	}()
	nulls := 0
	if d.validity != 0 || len(nullRows) > 0 {
		vb := memory.NewResizableBuffer(mem)
		bufs[0] = vb
		vb.Resize(bitmapLen(n))
		dst := vb.Bytes()
		if d.validity != 0 {
			src, ok := r.bytes(d.validity, uint32(bitmapLen(n)))
			if !ok {
				return nil, bad(-1, "validity bitmap [%d, +%d) is outside guest memory", d.validity, bitmapLen(n))
			}
			copy(dst, src)
		} else {
			for i := range dst {
				dst[i] = 0xff
			}
		}
		for _, e := range nullRows {
			bitutil.ClearBit(dst, e.Row)
		}
		nulls = n - bitutil.CountSetBits(dst, 0, n)
	}
	switch code {
	case codeBoolean, codeInt32, codeInt64, codeDouble, codeTimestamp:
		size := n * width
		if code == codeBoolean {
			size = bitmapLen(n)
		}
		src, ok := r.bytes(d.values, uint32(size))
		if !ok || d.values == 0 && size > 0 {
			return nil, bad(-1, "values [%d, +%d) are outside guest memory", d.values, size)
		}
		vb := memory.NewResizableBuffer(mem)
		bufs[1] = vb
		vb.Resize(size)
		copy(vb.Bytes(), src)
	case codeVarchar, codeBytea:
		ob, ok := r.bytes(d.offsets, uint32(4*(n+1)))
		if !ok || d.offsets == 0 {
			return nil, bad(-1, "offsets [%d, +%d) are outside guest memory", d.offsets, 4*(n+1))
		}
		data, ok := r.bytes(d.values, d.valuesLen)
		if !ok {
			return nil, bad(-1, "values [%d, +%d) are outside guest memory", d.values, d.valuesLen)
		}
		offb := memory.NewResizableBuffer(mem)
		bufs[1] = offb
		offb.Resize(4 * (n + 1))
		offs := arrow.Int32Traits.CastFromBytes(offb.Bytes())
		base := binary.LittleEndian.Uint32(ob)
		prev := base
		for i := 0; i <= n; i++ {
			o := binary.LittleEndian.Uint32(ob[4*i:])
			if o < prev || o > d.valuesLen {
				return nil, bad(max(i-1, 0), "offset %d of row %d is out of order or past the %d value bytes", o, max(i-1, 0), d.valuesLen)
			}
			if code == codeVarchar && i > 0 && (bufs[0] == nil || bitutil.BitIsSet(bufs[0].Bytes(), i-1)) && !utf8.Valid(data[prev:o]) {
				return nil, bad(i-1, "row %d is not valid UTF-8", i-1)
			}
			offs[i] = int32(o - base)
			prev = o
		}
		db := memory.NewResizableBuffer(mem)
		bufs = append(bufs, db)
		db.Resize(int(prev - base))
		copy(db.Bytes(), data[base:prev])
	}
	ad := array.NewData(dt, n, bufs, nil, nulls, 0)
	defer ad.Release()
	return array.MakeFromData(ad), nil
}

package keyenc

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

var allTypes = []core.Type{core.Boolean, core.Integer, core.Bigint, core.Double, core.Varchar, core.Bytea, core.Date, core.Timestamp}

// randValue returns a random value of t in core.ValueAt form, biased towards
// the edges: NULL, extremes, negative numbers, -0 and NaN, strings with zero
// bytes that are prefixes of each other.
func randValue(r *rand.Rand, t core.Type) any {
	if r.IntN(8) == 0 {
		return nil
	}
	str := func() []byte {
		alphabet := []byte{0x00, 0x01, 'a', 'b', 0xFF}
		b := make([]byte, r.IntN(5))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return b
	}
	switch t.Arrow.ID() {
	case arrow.BOOL:
		return r.IntN(2) == 0
	case arrow.INT32:
		edges := []int32{math.MinInt32, math.MinInt32 + 1, -256, -1, 0, 1, 255, 256, math.MaxInt32}
		if r.IntN(2) == 0 {
			return edges[r.IntN(len(edges))]
		}
		return int32(r.Uint32())
	case arrow.INT64:
		edges := []int64{math.MinInt64, math.MinInt64 + 1, -1 << 32, -1, 0, 1, 1 << 32, math.MaxInt64}
		if r.IntN(2) == 0 {
			return edges[r.IntN(len(edges))]
		}
		return int64(r.Uint64())
	case arrow.FLOAT64:
		edges := []float64{math.Inf(-1), -math.MaxFloat64, -1, -math.SmallestNonzeroFloat64, math.Copysign(0, -1), 0,
			math.SmallestNonzeroFloat64, 1, math.MaxFloat64, math.Inf(1), math.NaN(), math.Float64frombits(0xFFF0000000000123)}
		if r.IntN(2) == 0 {
			return edges[r.IntN(len(edges))]
		}
		return math.Float64frombits(r.Uint64())
	case arrow.STRING:
		return string(str())
	case arrow.BINARY:
		return str()
	case arrow.DATE32:
		return arrow.Date32(int32(r.Uint32()) >> r.IntN(32)).ToTime()
	case arrow.TIMESTAMP:
		return time.UnixMicro(int64(r.Uint64()) >> r.IntN(64)).UTC()
	}
	panic(fmt.Sprintf("type %s", t.Name))
}

// sqlCompare is SQL's ORDER BY comparison with NULLs first: NaN sorts after
// every other double and equals itself, -0 equals 0, strings and bytes
// compare bytewise.
func sqlCompare(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		if x == y {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	case int32:
		return cmp.Compare(x, b.(int32))
	case int64:
		return cmp.Compare(x, b.(int64))
	case float64:
		y := b.(float64)
		switch xn, yn := math.IsNaN(x), math.IsNaN(y); {
		case xn && yn:
			return 0
		case xn:
			return 1
		case yn:
			return -1
		}
		return cmp.Compare(x, y) // -0 == 0
	case string:
		return cmp.Compare(x, b.(string))
	case []byte:
		return bytes.Compare(x, b.([]byte))
	case time.Time:
		return x.Compare(b.(time.Time))
	}
	panic(fmt.Sprintf("value %T", a))
}

func encode(t testing.TB, types []core.Type, vals []any) []byte {
	var b []byte
	for i, v := range vals {
		var err error
		if b, err = AppendValue(b, types[i], v); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// TestOrder checks, for random keys of one to three columns of random types,
// that bytes.Compare of the encodings equals SQL's comparison of the keys
// (lexicographic over the columns), and that Decode returns the key.
func TestOrder(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	for iter := 0; iter < 2000; iter++ {
		types := make([]core.Type, 1+r.IntN(3))
		for i := range types {
			types[i] = allTypes[r.IntN(len(allTypes))]
		}
		keys := make([][]any, 20)
		encs := make([][]byte, len(keys))
		for k := range keys {
			keys[k] = make([]any, len(types))
			for i, typ := range types {
				keys[k][i] = randValue(r, typ)
			}
			encs[k] = encode(t, types, keys[k])
		}
		for a := range keys {
			for b := range keys {
				want := 0
				for i := range types {
					if want = sqlCompare(keys[a][i], keys[b][i]); want != 0 {
						break
					}
				}
				if got := bytes.Compare(encs[a], encs[b]); got != want {
					t.Fatalf("seed %d: compare(%v, %v) = %d, SQL says %d\n%x\n%x", seed, keys[a], keys[b], got, want, encs[a], encs[b])
				}
			}
			dec, err := Decode(encs[a])
			if err != nil {
				t.Fatalf("seed %d: Decode(%x): %v", seed, encs[a], err)
			}
			for i := range types {
				if sqlCompare(dec[i], keys[a][i]) != 0 {
					t.Fatalf("seed %d: Decode(encode(%v)) = %v", seed, keys[a], dec)
				}
			}
		}
	}
}

// TestStringOrder pins the cases the escaping exists for.
func TestStringOrder(t *testing.T) {
	ordered := []string{"", "\x00", "\x00\x00", "\x00\x01", "\x01", "a", "a\x00", "a\x00\x00", "a\x00b", "a\x01", "ab", "b", "\xff", "\xff\xff"}
	for i := 1; i < len(ordered); i++ {
		a, b := AppendString(nil, ordered[i-1]), AppendString(nil, ordered[i])
		if bytes.Compare(a, b) >= 0 {
			t.Errorf("enc(%q) = %x is not below enc(%q) = %x", ordered[i-1], a, ordered[i], b)
		}
	}
	// NULL sorts first, also in a later column of a composite key.
	k1 := AppendNull(AppendInt64(nil, 1))
	k2 := AppendString(AppendInt64(nil, 1), "")
	if bytes.Compare(k1, k2) >= 0 {
		t.Errorf("(1, NULL) does not sort before (1, '')")
	}
}

// TestColumnEncoder checks that encoding from Arrow columns equals encoding
// the values they hold.
func TestColumnEncoder(t *testing.T) {
	mem := testutil.Alloc(t)
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range allTypes {
		t.Run("type="+typ.Name, func(t *testing.T) {
			b := array.NewBuilder(mem, typ.Arrow)
			defer b.Release()
			vals := make([]any, 100)
			for i := range vals {
				vals[i] = randValue(r, typ)
				core.AppendValue(b, vals[i])
			}
			arr := b.NewArray()
			defer arr.Release()
			enc, err := NewColumnEncoder(arr)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				got := enc(nil, i)
				want := encode(t, []core.Type{typ}, []any{v})
				if !bytes.Equal(got, want) {
					t.Errorf("row %d (%v): column encoder %x, AppendValue %x", i, v, got, want)
				}
			}
		})
	}
}

var tagTypes = map[byte]core.Type{
	TagBool: core.Boolean, TagInt32: core.Integer, TagInt64: core.Bigint, TagFloat64: core.Double,
	TagString: core.Varchar, TagBytes: core.Bytea, TagDate: core.Date, TagTimestamp: core.Timestamp,
}

// FuzzKeyDecode checks that Decode never panics, and that whatever it
// accepts is canonical: re-encoding each decoded value, with the type its
// tag names, reproduces the input byte for byte.
func FuzzKeyDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add(AppendNull(nil))
	f.Add(AppendString(AppendInt64(nil, -5), "a\x00b"))
	f.Add(AppendFloat64(AppendBool(nil, true), math.NaN()))
	f.Add(AppendTimestamp(AppendDate(AppendBytes(nil, []byte{0, 0xff}), -1), 1700000000000000))
	f.Add(AppendInt32(nil, math.MinInt32))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := data
		for len(b) > 0 {
			tag := b[0]
			v, rest, err := DecodeOne(b)
			if err != nil {
				return
			}
			want := b[:len(b)-len(rest)]
			var got []byte
			if tag == TagNull {
				got = AppendNull(nil)
			} else if got, err = AppendValue(nil, tagTypes[tag], v); err != nil {
				t.Fatalf("re-encode %T %v: %v", v, v, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("decode(%x) = %#v, re-encoded as %x", want, v, got)
			}
			b = rest
		}
	})
}

func BenchmarkColumnEncoder(b *testing.B) {
	mem := testutil.Alloc(b)
	for _, typ := range []core.Type{core.Bigint, core.Varchar} {
		b.Run("type="+typ.Name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			bld := array.NewBuilder(mem, typ.Arrow)
			defer bld.Release()
			for range 1024 {
				core.AppendValue(bld, randValue(r, typ))
			}
			arr := bld.NewArray()
			defer arr.Release()
			enc, err := NewColumnEncoder(arr)
			if err != nil {
				b.Fatal(err)
			}
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				for i := range 1024 {
					buf = enc(buf[:0], i)
				}
			}
		})
	}
}

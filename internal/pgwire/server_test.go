package pgwire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

// fakeRunner answers a few fixed statements:
//
//	SELECT * FROM types   one row of every type, then a row of NULLs
//	ECHO <text>           one varchar column "sql" holding the SQL received
//	BIG <n>               n bigint rows in batches of 1000
//	FAIL <code>           an *Error with that SQLSTATE
//	OOPS                  a plain error (XX000)
//	SLOW                  blocks until its context ends
//
// and the describe wrapper "SELECT * FROM (q\n) AS strata_describe LIMIT 0"
// around any of them (same schema, no rows).
type fakeRunner struct {
	mem memory.Allocator
	mu  sync.Mutex
	got []string
	// slowEnded receives when a SLOW query ends.
	slowEnded chan struct{}
}

func (f *fakeRunner) queries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

const describePrefix, describeSuffix = "SELECT * FROM (", "\n) AS strata_describe LIMIT 0"

func (f *fakeRunner) Query(ctx context.Context, sql string) (array.RecordReader, core.Epoch, error) {
	f.mu.Lock()
	f.got = append(f.got, sql)
	f.mu.Unlock()
	describe := false
	if inner, ok := strings.CutPrefix(sql, describePrefix); ok && strings.HasSuffix(inner, describeSuffix) {
		sql, describe = strings.TrimSuffix(inner, describeSuffix), true
	}
	recs, err := f.answer(ctx, sql)
	if err != nil {
		return nil, 0, err
	}
	schema := recs[0].Schema()
	if describe {
		for _, r := range recs {
			r.Release()
		}
		recs = nil
	}
	rd, err := array.NewRecordReader(schema, recs)
	for _, r := range recs {
		r.Release()
	}
	return rd, 7, err
}

var typesSchema = arrow.NewSchema([]arrow.Field{
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "i2", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
	{Name: "i4", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "i8", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "f4", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "f8", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "by", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
	{Name: "tstz", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "iv", Type: arrow.FixedWidthTypes.MonthDayNanoInterval, Nullable: true},
	{Name: "t", Type: arrow.FixedWidthTypes.Time64us, Nullable: true},
	{Name: "u8", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
	{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
}, nil)

var (
	wantTS   = time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
	wantDate = time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
)

func (f *fakeRunner) answer(ctx context.Context, sql string) ([]arrow.RecordBatch, error) {
	switch {
	case sql == "SELECT * FROM types":
		b := array.NewRecordBuilder(f.mem, typesSchema)
		defer b.Release()
		b.Field(0).(*array.BooleanBuilder).Append(true)
		b.Field(1).(*array.Int16Builder).Append(-12)
		b.Field(2).(*array.Int32Builder).Append(123456)
		b.Field(3).(*array.Int64Builder).Append(math.MaxInt64)
		b.Field(4).(*array.Float32Builder).Append(1.5)
		b.Field(5).(*array.Float64Builder).Append(0.1)
		b.Field(6).(*array.Decimal128Builder).Append(decimal128.FromI64(-1250))
		b.Field(7).(*array.StringBuilder).Append("héllo 'x' \\n")
		b.Field(8).(*array.BinaryBuilder).Append([]byte{0, 1, 0xfe})
		b.Field(9).(*array.Date32Builder).Append(arrow.Date32FromTime(wantDate))
		b.Field(10).(*array.TimestampBuilder).Append(arrow.Timestamp(wantTS.UnixMicro()))
		b.Field(11).(*array.TimestampBuilder).Append(arrow.Timestamp(wantTS.UnixMicro()))
		b.Field(12).(*array.MonthDayNanoIntervalBuilder).Append(arrow.MonthDayNanoInterval{Months: 14, Days: 3, Nanoseconds: 4*3600e9 + 5e9 + 500e6})
		b.Field(13).(*array.Time64Builder).Append(arrow.Time64((13*3600 + 14*60 + 15) * 1e6))
		b.Field(14).(*array.Uint64Builder).Append(math.MaxUint64)
		lb := b.Field(15).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
		for i := range typesSchema.NumFields() {
			b.Field(i).AppendNull()
		}
		return []arrow.RecordBatch{b.NewRecordBatch()}, nil
	case strings.HasPrefix(sql, "ECHO "):
		return f.strings("sql", sql), nil
	case strings.HasPrefix(sql, "BIG "):
		var n int
		fmt.Sscan(sql[4:], &n)
		schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
		var recs []arrow.RecordBatch
		for start := 0; start < n || len(recs) == 0; start += 1000 {
			b := array.NewInt64Builder(f.mem)
			for i := start; i < min(n, start+1000); i++ {
				b.Append(int64(i))
			}
			arr := b.NewArray()
			b.Release()
			recs = append(recs, array.NewRecordBatch(schema, []arrow.Array{arr}, int64(arr.Len())))
			arr.Release()
		}
		return recs, nil
	case strings.HasPrefix(sql, "FAIL "):
		return nil, fmt.Errorf("fake: %w", &Error{Code: strings.TrimSpace(sql[5:]), Message: "it failed on purpose"})
	case sql == "OOPS":
		return nil, errors.New("fake: something broke")
	case sql == "SLOW":
		<-ctx.Done()
		f.slowEnded <- struct{}{}
		return nil, ctx.Err()
	}
	return nil, &Error{Code: CodeSyntaxError, Message: fmt.Sprintf("fake: cannot answer %q", sql)}
}

func (f *fakeRunner) strings(name string, vals ...string) []arrow.RecordBatch {
	b := array.NewStringBuilder(f.mem)
	defer b.Release()
	b.AppendValues(vals, nil)
	arr := b.NewArray()
	defer arr.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: name, Type: arrow.BinaryTypes.String}}, nil)
	return []arrow.RecordBatch{array.NewRecordBatch(schema, []arrow.Array{arr}, int64(arr.Len()))}
}

// startServer serves a fakeRunner on 127.0.0.1 and returns its address.
func startServer(t *testing.T, opts ...Option) (*fakeRunner, string) {
	t.Helper()
	f := &fakeRunner{mem: testutil.Alloc(t), slowEnded: make(chan struct{}, 1)}
	srv, err := NewServer(f, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return f, ln.Addr().String()
}

func connect(t *testing.T, addr string, mode pgx.QueryExecMode, extra string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig("postgres://alice@" + addr + "/strata?sslmode=prefer" + extra)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

var modes = []struct {
	name string
	mode pgx.QueryExecMode
}{
	{"mode=cache_statement", pgx.QueryExecModeCacheStatement},
	{"mode=describe_exec", pgx.QueryExecModeDescribeExec},
	{"mode=exec", pgx.QueryExecModeExec},
	{"mode=simple", pgx.QueryExecModeSimpleProtocol},
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestTypes reads every type, and NULLs, in every pgx mode: binary results
// (cache_statement, describe_exec) and text (exec, simple).
func TestTypes(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			_, addr := startServer(t)
			c := connect(t, addr, m.mode, "")
			rows, err := c.Query(ctx(t), "SELECT * FROM types")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var oids []uint32
			for _, fd := range rows.FieldDescriptions() {
				oids = append(oids, fd.DataTypeOID)
			}
			wantOIDs := []uint32{16, 21, 23, 20, 700, 701, 1700, 25, 17, 1082, 1114, 1184, 1186, 1083, 1700, 25}
			if fmt.Sprint(oids) != fmt.Sprint(wantOIDs) {
				t.Errorf("OIDs %v, want %v", oids, wantOIDs)
			}
			if !rows.Next() {
				t.Fatalf("no row: %v", rows.Err())
			}
			var (
				b    bool
				i2   int16
				i4   int32
				i8   int64
				f4   float32
				f8   float64
				dec  pgtype.Numeric
				s    string
				by   []byte
				d    time.Time
				ts   time.Time
				tstz time.Time
				iv   pgtype.Interval
				tm   pgtype.Time
				u8   pgtype.Numeric
				l    string
			)
			if err := rows.Scan(&b, &i2, &i4, &i8, &f4, &f8, &dec, &s, &by, &d, &ts, &tstz, &iv, &tm, &u8, &l); err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprint(b, i2, i4, i8, f4, f8, numText(dec), s, by, d.Format(time.DateOnly),
				ts.Format(time.RFC3339Nano), tstz.UTC().Format(time.RFC3339Nano), iv.Months, iv.Days, iv.Microseconds, tm.Microseconds, numText(u8), l)
			want := fmt.Sprint(true, -12, 123456, int64(math.MaxInt64), 1.5, 0.1, "-12.5", "héllo 'x' \\n", []byte{0, 1, 0xfe}, "2024-02-29",
				"2024-02-29T13:14:15.123456Z", "2024-02-29T13:14:15.123456Z", 14, 3, int64(4*3600e6+5e6+500e3), int64((13*3600+14*60+15)*1e6), "18446744073709551615", "[1,2]")
			if got != want {
				t.Errorf("row\n got %s\nwant %s", got, want)
			}
			if !rows.Next() {
				t.Fatal("no NULL row")
			}
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if v != nil {
					t.Errorf("column %d: %v, want NULL", i, v)
				}
			}
			if rows.Next() {
				t.Error("a third row")
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if tag := rows.CommandTag().String(); tag != "SELECT 2" {
				t.Errorf("tag %q", tag)
			}
			if e := c.PgConn().ParameterStatus("strata_epoch"); e != "7" {
				t.Errorf("strata_epoch %q, want 7", e)
			}
		})
	}
}

func numText(n pgtype.Numeric) string {
	if !n.Valid {
		return "NULL"
	}
	r := new(big.Rat).SetInt(n.Int)
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(max(n.Exp, -n.Exp))), nil))
	if n.Exp > 0 {
		r.Mul(r, p)
	} else {
		r.Quo(r, p)
	}
	return strings.TrimSuffix(strings.TrimRight(r.FloatString(10), "0"), ".")
}

// TestTextFormat checks the exact text of every type, as psql shows it.
func TestTextFormat(t *testing.T) {
	_, addr := startServer(t)
	c := connect(t, addr, pgx.QueryExecModeSimpleProtocol, "")
	res := c.PgConn().Exec(ctx(t), "SELECT * FROM types")
	rs, err := res.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range rs[0].Rows[0] {
		got = append(got, string(v))
	}
	want := []string{"t", "-12", "123456", "9223372036854775807", "1.5", "0.1", "-12.50", "héllo 'x' \\n", `\x0001fe`,
		"2024-02-29", "2024-02-29 13:14:15.123456", "2024-02-29 13:14:15.123456+00", "1 year 2 mons 3 days 04:00:05.5",
		"13:14:15", "18446744073709551615", "[1,2]"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("text\n got %q\nwant %q", got, want)
	}
	for i, v := range rs[0].Rows[1] {
		if v != nil {
			t.Errorf("column %d of the NULL row: %q", i, v)
		}
	}
}

// TestParameters binds parameters of every type through the extended
// protocol and checks the SQL the Runner received.
func TestParameters(t *testing.T) {
	f, addr := startServer(t)
	c := connect(t, addr, pgx.QueryExecModeCacheStatement, "")
	cases := []struct {
		name string
		sql  string
		arg  any
		want string
	}{
		{"type=untyped-int", "ECHO $1", 42, "ECHO '42'"},
		{"type=untyped-string", "ECHO $1", "it's", "ECHO 'it''s'"},
		{"type=untyped-null", "ECHO $1", nil, "ECHO NULL"},
		{"type=bigint", "ECHO $1::bigint", int64(-5), "ECHO CAST((-5) AS BIGINT)::bigint"},
		{"type=int", "ECHO $1::int4", 7, "ECHO CAST((7) AS INTEGER)::int4"},
		{"type=smallint", "ECHO $1::int2", 7, "ECHO CAST((7) AS SMALLINT)::int2"},
		{"type=bool", "ECHO $1::boolean", true, "ECHO TRUE::boolean"},
		{"type=float8", "ECHO $1::float8", 0.1, "ECHO CAST((1e-01) AS DOUBLE)::float8"},
		{"type=float8-nan", "ECHO $1::float8", math.NaN(), "ECHO CAST('NaN' AS DOUBLE)::float8"},
		{"type=float4", "ECHO $1::real", float32(1.5), "ECHO CAST((1.5e+00) AS FLOAT)::real"},
		{"type=numeric", "ECHO $1::numeric", "12.50", "ECHO (12.50)::numeric"},
		{"type=text", "ECHO $1::text", "a'b", "ECHO CAST('a''b' AS VARCHAR)::text"},
		{"type=varchar", "ECHO $1::varchar", "x", "ECHO CAST('x' AS VARCHAR)::varchar"},
		{"type=bytea", "ECHO $1::bytea", []byte{0, 0x27, 0xff}, "ECHO from_hex('0027ff')::bytea"},
		{"type=date", "ECHO $1::date", wantDate, "ECHO CAST('2024-02-29' AS DATE)::date"},
		{"type=timestamp", "ECHO $1::timestamp", wantTS, "ECHO CAST('2024-02-29 13:14:15.123456' AS TIMESTAMP)::timestamp"},
		{"type=timestamptz", "ECHO $1::timestamptz", wantTS, "ECHO CAST('2024-02-29 13:14:15.123456+00' AS TIMESTAMPTZ)::timestamptz"},
		{"type=interval", "ECHO $1::interval", pgtype.Interval{Months: 1, Days: 2, Microseconds: 3, Valid: true}, "ECHO (INTERVAL 1 MONTH + INTERVAL 2 DAY + INTERVAL 3 MICROSECOND)::interval"},
		{"type=typed-null", "ECHO $1::bigint", nil, "ECHO CAST(NULL AS BIGINT)::bigint"},
		{"type=uuid", "ECHO $1::uuid", [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, "ECHO CAST('01020304-0506-0708-090a-0b0c0d0e0f10' AS UUID)::uuid"},
		// Injection attempts: each stays one literal.
		{"inject=quote", "ECHO $1", "'; DROP TABLE x; --", "ECHO '''; DROP TABLE x; --'"},
		{"inject=backslash", "ECHO $1::text", `\'; SELECT 1 --`, `ECHO CAST('\''; SELECT 1 --' AS VARCHAR)::text`},
		{"inject=minus", "ECHO 1-$1::int8", int64(-1), "ECHO 1-CAST((-1) AS BIGINT)::int8"},
		{"inject=dollar-quote", "ECHO $1", "$$ || 1 || $$", "ECHO '$$ || 1 || $$'"},
		// A placeholder inside a string, identifier or comment is not one.
		{"placeholder=in-string", "ECHO '$1', \"$1\", $1 -- $1", "x", `ECHO '$1', "$1", 'x' -- $1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			if err := c.QueryRow(ctx(t), tc.sql, tc.arg).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("runner got\n %s\nwant\n %s", got, tc.want)
			}
		})
	}
	// Refused values: NUL and invalid UTF-8 (as Postgres refuses them).
	for _, bad := range []string{"a\x00b", "\xff"} {
		_, err := c.Exec(ctx(t), "ECHO $1::text", bad)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != CodeCharacterNotInRepertoire {
			t.Errorf("value %q: err %v, want 22021", bad, err)
		}
	}
	for _, q := range f.queries() {
		if strings.ContainsRune(q, 0) {
			t.Errorf("a NUL reached the runner: %q", q)
		}
	}
	// Text-format parameters with a declared type are validated.
	res := c.PgConn().ExecParams(ctx(t), "ECHO $1", [][]byte{[]byte("1; DROP")}, []uint32{oidInt8}, []int16{0}, nil).Read()
	var pe *pgconn.PgError
	if !errors.As(res.Err, &pe) || pe.Code != CodeInvalidTextRepresentation {
		t.Errorf("bad int8 text: %v, want 22P02", res.Err)
	}
	res = c.PgConn().ExecParams(ctx(t), "ECHO $1", [][]byte{[]byte("-3")}, []uint32{oidInt8}, []int16{0}, nil).Read()
	if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "ECHO CAST((-3) AS BIGINT)" {
		t.Errorf("int8 text: %v %q", res.Err, res.Rows)
	}
}

// TestPrepared: a named prepared statement runs several times with
// different parameters; Describe reports the parameter types and columns.
func TestPrepared(t *testing.T) {
	_, addr := startServer(t)
	c := connect(t, addr, pgx.QueryExecModeCacheStatement, "")
	sd, err := c.Prepare(ctx(t), "p1", "ECHO $1::int8, $2")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sd.ParamOIDs) != "[20 0]" || len(sd.Fields) != 1 || sd.Fields[0].DataTypeOID != oidText {
		t.Errorf("description: params %v fields %v", sd.ParamOIDs, sd.Fields)
	}
	for i := range 3 {
		var got string
		if err := c.QueryRow(ctx(t), "p1", i, fmt.Sprint("v", i)).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("ECHO CAST((%d) AS BIGINT)::int8, 'v%d'", i, i); got != want {
			t.Errorf("run %d: %q, want %q", i, got, want)
		}
	}
	if err := c.Deallocate(ctx(t), "p1"); err != nil {
		t.Fatal(err)
	}
	// Parameters in the simple protocol are refused with a hint.
	_, err = c.Exec(ctx(t), "ECHO $1", pgx.QueryExecModeSimpleProtocol)
	if err == nil {
		t.Error("a placeholder in a simple query ran")
	}
}

// TestSQLPrepare: PREPARE / EXECUTE / DEALLOCATE in SQL (what psql uses).
func TestSQLPrepare(t *testing.T) {
	f, addr := startServer(t)
	c := connect(t, addr, pgx.QueryExecModeSimpleProtocol, "")
	for _, q := range []string{"PREPARE q (bigint, text) AS ECHO $1 + 1, $2", "PREPARE r AS ECHO $1"} {
		if _, err := c.Exec(ctx(t), q); err != nil {
			t.Fatal(err)
		}
	}
	var got string
	if err := c.QueryRow(ctx(t), "EXECUTE q (41, 'x''y')").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := "ECHO CAST((41) AS BIGINT) + 1, CAST(('x''y') AS VARCHAR)"; got != want {
		t.Errorf("EXECUTE q: %q, want %q", got, want)
	}
	_, err := c.Exec(ctx(t), "EXECUTE r")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || !strings.Contains(pe.Message, "wrong number of parameters") {
		t.Errorf("EXECUTE r without args: %v", err)
	}
	if _, err := c.Exec(ctx(t), "PREPARE q AS ECHO 1"); !errors.As(err, &pe) || pe.Code != CodeDuplicatePreparedStatement {
		t.Errorf("duplicate PREPARE: %v", err)
	}
	if _, err := c.Exec(ctx(t), "DEALLOCATE q"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx(t), "EXECUTE q (1, 'a')"); !errors.As(err, &pe) || pe.Code != CodeInvalidSQLStatementName {
		t.Errorf("EXECUTE after DEALLOCATE: %v", err)
	}
	_ = f
}

// TestErrorsKeepConnection: an error answers ErrorResponse with its
// SQLSTATE and the next query on the same connection works, in both
// protocols.
func TestErrorsKeepConnection(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			_, addr := startServer(t)
			c := connect(t, addr, m.mode, "")
			for _, tc := range []struct{ sql, code string }{
				{"FAIL 42601", "42601"},
				{"FAIL 42P01", "42P01"},
				{"OOPS", "XX000"},
				{"INSERT INTO v VALUES (1)", "25006"},
				{"LISTEN x", "0A000"},
			} {
				_, err := c.Exec(ctx(t), tc.sql)
				var pe *pgconn.PgError
				if !errors.As(err, &pe) || pe.Code != tc.code {
					t.Errorf("%s: err %v, want SQLSTATE %s", tc.sql, err, tc.code)
				}
				var n int64
				if err := c.QueryRow(ctx(t), "BIG 1").Scan(&n); err != nil || n != 0 {
					t.Fatalf("after %s: %v", tc.sql, err)
				}
			}
		})
	}
}

// TestSimpleProtocol: several statements in one Query, an empty query,
// session statements, version(), transaction status.
func TestSimpleProtocol(t *testing.T) {
	f, addr := startServer(t)
	c := connect(t, addr, pgx.QueryExecModeSimpleProtocol, "")
	pc := c.PgConn()
	rs, err := pc.Exec(ctx(t), "SET extra_float_digits = 3; ECHO 1; SHOW extra_float_digits;;BIG 3").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, fmt.Sprintf("%s:%d", r.CommandTag, len(r.Rows)))
	}
	if w := "SET:0 SELECT 1:1 SHOW:1 SELECT 3:3"; strings.Join(got, " ") != w {
		t.Errorf("results %v, want %s", got, w)
	}
	if v := string(rs[2].Rows[0][0]); v != "3" {
		t.Errorf("SHOW extra_float_digits = %q", v)
	}
	// An error stops the rest of the statements.
	rs, err = pc.Exec(ctx(t), "ECHO a; FAIL 42601; ECHO b").ReadAll()
	if err == nil || len(rs) != 1 || slices.Contains(f.queries(), "ECHO b") {
		t.Errorf("after a failing statement: %d results, err %v, runner got %q", len(rs), err, f.queries())
	}
	// Empty queries.
	for _, q := range []string{"", " ; ", "-- nothing"} {
		rs, err := pc.Exec(ctx(t), q).ReadAll()
		if err != nil || len(rs) != 1 || len(rs[0].Rows) != 0 || rs[0].CommandTag.String() != "" {
			t.Errorf("empty query %q: %v %v", q, rs, err)
		}
	}
	var v string
	if err := c.QueryRow(ctx(t), "select  VERSION()").Scan(&v); err != nil || !strings.HasPrefix(v, "PostgreSQL 16.0") {
		t.Errorf("version(): %q %v", v, err)
	}
	for name, want := range map[string]string{"server_version": "16.0 (Strata)", "DateStyle": "ISO, MDY", "client_encoding": "UTF8",
		"integer_datetimes": "on", "standard_conforming_strings": "on", "TimeZone": "UTC"} {
		if got := pc.ParameterStatus(name); got != want {
			t.Errorf("ParameterStatus %s = %q, want %q", name, got, want)
		}
	}
	// Transaction status: BEGIN, an error fails the block, ROLLBACK ends it.
	if _, err := c.Exec(ctx(t), "BEGIN"); err != nil || pc.TxStatus() != 'T' {
		t.Fatalf("BEGIN: %v, status %c", err, pc.TxStatus())
	}
	if _, err := c.Exec(ctx(t), "FAIL 42601"); err == nil || pc.TxStatus() != 'E' {
		t.Fatalf("error in block: status %c", pc.TxStatus())
	}
	var pe *pgconn.PgError
	if _, err := c.Exec(ctx(t), "ECHO 1"); !errors.As(err, &pe) || pe.Code != CodeInFailedSQLTransaction {
		t.Errorf("statement in a failed block: %v", err)
	}
	if _, err := c.Exec(ctx(t), "ROLLBACK"); err != nil || pc.TxStatus() != 'I' {
		t.Errorf("ROLLBACK: %v, status %c", err, pc.TxStatus())
	}
	// pgx's transactions work.
	tx, err := c.Begin(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := tx.QueryRow(ctx(t), "BIG 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

// TestPortalSuspended: Execute with a row limit returns the rows in pages.
func TestPortalSuspended(t *testing.T) {
	f, addr := startServer(t)
	c := connect(t, addr, pgx.QueryExecModeCacheStatement, "")
	pc := c.PgConn()
	if _, err := pc.Prepare(ctx(t), "big", "BIG 2500", nil); err != nil {
		t.Fatal(err)
	}
	// pgconn has no paged Execute: speak the protocol through its
	// frontend, then hand the connection back at ReadyForQuery.
	fe := pc.Frontend()
	fe.SendBind(&pgproto3.Bind{PreparedStatement: "big", ResultFormatCodes: []int16{1}})
	for range 3 {
		fe.SendExecute(&pgproto3.Execute{MaxRows: 1000})
	}
	fe.SendSync(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	var trace []string
	rowsSeen := 0
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		switch m := msg.(type) {
		case *pgproto3.DataRow:
			if got := int64(binary.BigEndian.Uint64(m.Values[0])); got != int64(rowsSeen) {
				t.Fatalf("row %d is %d", rowsSeen, got)
			}
			rowsSeen++
			continue
		case *pgproto3.CommandComplete:
			trace = append(trace, fmt.Sprintf("rows=%d complete=%s", rowsSeen, m.CommandTag))
		case *pgproto3.PortalSuspended:
			trace = append(trace, fmt.Sprintf("rows=%d suspended", rowsSeen))
		case *pgproto3.ErrorResponse:
			t.Fatalf("error: %s", m.Message)
		case *pgproto3.ParameterStatus:
			continue
		default:
			trace = append(trace, fmt.Sprintf("%T", m))
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	if w := "*pgproto3.BindComplete|rows=1000 suspended|rows=2000 suspended|rows=2500 complete=SELECT 2500|*pgproto3.ReadyForQuery"; strings.Join(trace, "|") != w {
		t.Errorf("paged execute:\n got %s\nwant %s", strings.Join(trace, "|"), w)
	}
	// Large results stream across batches.
	rows, err := c.Query(ctx(t), "BIG 2500")
	if err != nil {
		t.Fatal(err)
	}
	var sum, cnt int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		sum += n
		cnt++
	}
	if rows.Err() != nil || cnt != 2500 || sum != 2499*2500/2 {
		t.Errorf("BIG 2500: %d rows, sum %d, err %v", cnt, sum, rows.Err())
	}
	_ = f
}

// TestCancel: a CancelRequest stops the running query with 57014 and the
// connection stays usable.
func TestCancel(t *testing.T) {
	f, addr := startServer(t)
	c := connect(t, addr, pgx.QueryExecModeCacheStatement, "")
	qctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(200 * time.Millisecond)
		cancel() // pgx sends a CancelRequest on a new connection
	}()
	_, err := c.Exec(qctx, "SLOW")
	if err == nil {
		t.Fatal("SLOW finished")
	}
	select {
	case <-f.slowEnded:
	case <-time.After(5 * time.Second):
		t.Fatal("the CancelRequest did not stop the query")
	}
	if c.IsClosed() {
		// pgx closes the connection when the context ends mid-query; the
		// server side must still have stopped the query: check with a
		// fresh connection that the server answers.
		c = connect(t, addr, pgx.QueryExecModeCacheStatement, "")
	}
	var n int64
	if err := c.QueryRow(ctx(t), "BIG 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
}

// TestPassword: md5 and cleartext passwords; a wrong one is refused.
func TestPassword(t *testing.T) {
	for _, m := range []AuthMethod{AuthMD5, AuthCleartext} {
		t.Run("method="+m.String(), func(t *testing.T) {
			_, addr := startServer(t, WithPassword("s3cret"), WithAuthMethod(m))
			c := connect(t, addr, pgx.QueryExecModeCacheStatement, "&password=s3cret")
			var n int64
			if err := c.QueryRow(ctx(t), "BIG 1").Scan(&n); err != nil {
				t.Fatal(err)
			}
			_, err := pgx.Connect(ctx(t), "postgres://alice:wrong@"+addr+"/strata?sslmode=disable")
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != CodeInvalidPassword {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
	if _, err := NewServer(&fakeRunner{}, WithAuthMethod(AuthMD5)); err == nil {
		t.Error("md5 without a password was accepted")
	}
}

package core

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Type is a SQL column type as written in a deployment's schema or in SQL.
type Type struct {
	// Name is the canonical SQL name: boolean, integer, bigint, double,
	// varchar, bytea, date, timestamp.
	Name string
	// Arrow is the Arrow type a column of this type is stored as.
	Arrow arrow.DataType
}

// The SQL types the engine knows. Later issues add decimal, timestamptz and
// interval.
var (
	Boolean   = Type{"boolean", arrow.FixedWidthTypes.Boolean}
	Integer   = Type{"integer", arrow.PrimitiveTypes.Int32}
	Bigint    = Type{"bigint", arrow.PrimitiveTypes.Int64}
	Double    = Type{"double", arrow.PrimitiveTypes.Float64}
	Varchar   = Type{"varchar", arrow.BinaryTypes.String}
	Bytea     = Type{"bytea", arrow.BinaryTypes.Binary}
	Date      = Type{"date", arrow.FixedWidthTypes.Date32}
	Timestamp = Type{"timestamp", &arrow.TimestampType{Unit: arrow.Microsecond}}
	// Timestamptz is an instant, stored in UTC microseconds with the zone
	// "UTC" on the Arrow type (sessions are UTC).
	Timestamptz = Type{"timestamptz", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}}
	// Interval is a span of months, days and nanoseconds (Arrow's
	// MonthDayNano interval); strata keeps microsecond precision.
	Interval = Type{"interval", arrow.FixedWidthTypes.MonthDayNanoInterval}
)

// Decimal returns the type decimal(p,s), stored as Arrow decimal128. It
// panics unless 1 <= p <= 38 and 0 <= s <= p; ParseType checks for callers.
func Decimal(p, s int32) Type {
	if p < 1 || p > 38 || s < 0 || s > p {
		panic(fmt.Sprintf("core: invalid decimal(%d,%d)", p, s))
	}
	return Type{fmt.Sprintf("decimal(%d,%d)", p, s), &arrow.Decimal128Type{Precision: p, Scale: s}}
}

// intervalFields are the field qualifiers of Postgres' interval type
// ("interval minute", "interval day to second"); ParseType reads them as
// plain Interval.
var intervalFields = map[string]bool{
	"year": true, "month": true, "day": true, "hour": true, "minute": true, "second": true,
	"year to month": true, "day to hour": true, "day to minute": true, "day to second": true,
	"hour to minute": true, "hour to second": true, "minute to second": true,
}

// typeAliases maps every accepted spelling to its type.
var typeAliases = map[string]Type{
	"boolean": Boolean, "bool": Boolean,
	"integer": Integer, "int": Integer, "int4": Integer,
	"bigint": Bigint, "int8": Bigint, "long": Bigint,
	"double": Double, "double precision": Double, "float8": Double, "float": Double,
	"varchar": Varchar, "text": Varchar, "string": Varchar, "character varying": Varchar,
	"bytea": Bytea, "blob": Bytea, "bytes": Bytea,
	"date":      Date,
	"timestamp": Timestamp, "timestamp without time zone": Timestamp,
	"timestamptz": Timestamptz, "timestamp with time zone": Timestamptz,
	"interval": Interval,
	// decimal and numeric without a precision are decimal(18,3), DuckDB's default.
	"decimal": Decimal(18, 3), "numeric": Decimal(18, 3),
}

// TypeNames lists the canonical type names, for hints.
func TypeNames() []string {
	return []string{"boolean", "integer", "bigint", "double", "varchar", "bytea", "date", "timestamp", "timestamptz", "interval", "decimal(p,s)"}
}

// ParseType resolves a type name (case-insensitive, with the usual aliases).
func ParseType(name string) (Type, error) {
	key := strings.Join(strings.Fields(strings.ToLower(name)), " ")
	t, ok := typeAliases[key]
	if !ok {
		t, ok = parseParamType(key)
	}
	if !ok {
		return Type{}, fmt.Errorf("core: unknown type %q (known: %s)", name, strings.Join(TypeNames(), ", "))
	}
	return t, nil
}

// parseParamType reads decimal(p[,s]) / numeric(p[,s]) and interval field
// qualifiers; key is lower case with single spaces.
func parseParamType(key string) (Type, bool) {
	if f, ok := strings.CutPrefix(key, "interval "); ok && intervalFields[f] {
		return Interval, true
	}
	for _, pre := range []string{"decimal", "numeric"} {
		rest, ok := strings.CutPrefix(key, pre)
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, "(") || !strings.HasSuffix(rest, ")") {
			return Type{}, false
		}
		args := strings.Split(rest[1:len(rest)-1], ",")
		if len(args) > 2 {
			return Type{}, false
		}
		p, err := strconv.ParseInt(strings.TrimSpace(args[0]), 10, 32)
		if err != nil {
			return Type{}, false
		}
		var s int64
		if len(args) == 2 {
			if s, err = strconv.ParseInt(strings.TrimSpace(args[1]), 10, 32); err != nil {
				return Type{}, false
			}
		}
		if p < 1 || p > 38 || s < 0 || s > p {
			return Type{}, false
		}
		return Decimal(int32(p), int32(s)), true
	}
	return Type{}, false
}

// TypeOf maps an Arrow type back to its SQL type.
func TypeOf(dt arrow.DataType) (Type, bool) {
	switch dt.ID() {
	case arrow.BOOL:
		return Boolean, true
	case arrow.INT32:
		return Integer, true
	case arrow.INT64:
		return Bigint, true
	case arrow.FLOAT64:
		return Double, true
	case arrow.STRING:
		return Varchar, true
	case arrow.BINARY:
		return Bytea, true
	case arrow.DATE32:
		return Date, true
	case arrow.TIMESTAMP:
		if dt.(*arrow.TimestampType).TimeZone != "" {
			return Timestamptz, true
		}
		return Timestamp, true
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return Interval, true
	case arrow.DECIMAL128:
		d := dt.(*arrow.Decimal128Type)
		return Decimal(d.Precision, d.Scale), true
	}
	return Type{}, false
}

// Column is one declared column of a relation.
type Column struct {
	Name string
	Type Type
}

// ArrowSchema builds the Arrow schema of a relation's columns (nullable,
// without the weight column).
func ArrowSchema(cols []Column) *arrow.Schema {
	fs := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fs[i] = arrow.Field{Name: c.Name, Type: c.Type.Arrow, Nullable: true}
	}
	return arrow.NewSchema(fs, nil)
}

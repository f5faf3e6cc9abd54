package core

import (
	"fmt"
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
)

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
}

// TypeNames lists the canonical type names, for hints.
func TypeNames() []string {
	return []string{"boolean", "integer", "bigint", "double", "varchar", "bytea", "date", "timestamp"}
}

// ParseType resolves a type name (case-insensitive, with the usual aliases).
func ParseType(name string) (Type, error) {
	t, ok := typeAliases[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Type{}, fmt.Errorf("core: unknown type %q (known: %s)", name, strings.Join(TypeNames(), ", "))
	}
	return t, nil
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
		return Timestamp, true
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

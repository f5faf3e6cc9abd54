package core

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// WeightColumn is the name of a changelog batch's last column: the int64
// multiplicity of each row (+n inserts n copies, -n deletes n copies).
const WeightColumn = "_weight"

// WeightField is the Arrow field of the weight column.
var WeightField = arrow.Field{Name: WeightColumn, Type: arrow.PrimitiveTypes.Int64}

// ChangelogSchema returns s with the weight column appended.
func ChangelogSchema(s *arrow.Schema) *arrow.Schema {
	fs := append(append([]arrow.Field(nil), s.Fields()...), WeightField)
	return arrow.NewSchema(fs, nil)
}

// DataSchema returns the schema of a changelog schema without its weight column.
func DataSchema(s *arrow.Schema) *arrow.Schema {
	fs := s.Fields()
	if n := len(fs); n > 0 && fs[n-1].Name == WeightColumn {
		fs = fs[:n-1]
	}
	return arrow.NewSchema(fs, nil)
}

// IsChangelog reports whether s ends with the weight column.
func IsChangelog(s *arrow.Schema) bool {
	n := s.NumFields()
	return n > 0 && s.Field(n-1).Name == WeightColumn && s.Field(n-1).Type.ID() == arrow.INT64
}

// Weights returns the weight column of a changelog batch (borrowed).
func Weights(b arrow.RecordBatch) *array.Int64 {
	return b.Column(int(b.NumCols()) - 1).(*array.Int64)
}

// CheckChangelog returns an error unless b is a well-formed changelog batch:
// the weight column is last, int64, without NULLs.
func CheckChangelog(b arrow.RecordBatch) error {
	if !IsChangelog(b.Schema()) {
		return fmt.Errorf("core: batch is not a changelog: last column must be %s int64, schema is %s", WeightColumn, b.Schema())
	}
	if w := Weights(b); w.NullN() > 0 {
		return fmt.Errorf("core: changelog batch has %d NULL weights", w.NullN())
	}
	return nil
}

package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/stratadb/strata/engine/core"
)

// Stored is the persisted form of a core.ViewDef: types by their canonical
// SQL name, so that it round-trips through JSON (core.Type holds an Arrow
// type, which does not).
type Stored struct {
	Name    string         `json:"name"`
	Columns []StoredColumn `json:"columns"`
	Key     []string       `json:"key"`
}

// StoredColumn is one column of a Stored view.
type StoredColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// FromDef returns the stored form of v.
func FromDef(v core.ViewDef) Stored {
	s := Stored{Name: v.Name, Columns: make([]StoredColumn, len(v.Columns)), Key: append([]string{}, v.Key...)}
	for i, c := range v.Columns {
		s.Columns[i] = StoredColumn{Name: c.Name, Type: c.Type.Name}
	}
	return s
}

// Marshal encodes v's stored form as JSON.
func Marshal(v core.ViewDef) []byte {
	b, err := json.Marshal(FromDef(v))
	if err != nil {
		// Only strings and slices of them: Marshal cannot fail.
		panic(err)
	}
	return b
}

// Unmarshal decodes what Marshal wrote.
func Unmarshal(b []byte) (Stored, error) {
	var s Stored
	if err := json.Unmarshal(b, &s); err != nil {
		return Stored{}, fmt.Errorf("decode stored view definition: %w", err)
	}
	return s, nil
}

// Diff describes how stored differs from v, or returns "" if it does not.
func Diff(stored Stored, v core.ViewDef) string {
	want := FromDef(v)
	var diffs []string
	if !slices.Equal(stored.Columns, want.Columns) {
		diffs = append(diffs, fmt.Sprintf("columns (%s) stored, (%s) defined", colList(stored.Columns), colList(want.Columns)))
	}
	if !slices.Equal(stored.Key, want.Key) {
		diffs = append(diffs, fmt.Sprintf("key (%s) stored, (%s) defined", strings.Join(stored.Key, ", "), strings.Join(want.Key, ", ")))
	}
	return strings.Join(diffs, "; ")
}

func colList(cs []StoredColumn) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Name + " " + c.Type
	}
	return strings.Join(parts, ", ")
}

// Validate reports every problem with v at once: an empty name, no columns,
// duplicate or reserved column names, types core does not know, key columns
// that do not exist or repeat.
func Validate(v core.ViewDef) error {
	var errs []string
	if v.Name == "" {
		errs = append(errs, "empty view name")
	}
	if len(v.Columns) == 0 {
		errs = append(errs, "no columns")
	}
	seen := make(map[string]bool, len(v.Columns))
	for i, c := range v.Columns {
		switch {
		case c.Name == "":
			errs = append(errs, fmt.Sprintf("column %d has no name", i))
		case c.Name == core.WeightColumn:
			errs = append(errs, fmt.Sprintf("column name %s is reserved", core.WeightColumn))
		case seen[c.Name]:
			errs = append(errs, fmt.Sprintf("duplicate column %q", c.Name))
		}
		seen[c.Name] = true
		if c.Type.Arrow == nil {
			errs = append(errs, fmt.Sprintf("column %q has no type", c.Name))
			continue
		}
		if t, ok := core.TypeOf(c.Type.Arrow); !ok || t.Name != c.Type.Name || !arrow.TypeEqual(t.Arrow, c.Type.Arrow) {
			errs = append(errs, fmt.Sprintf("column %q has unsupported type %s (%s)", c.Name, c.Type.Name, c.Type.Arrow))
		}
	}
	inKey := make(map[string]bool, len(v.Key))
	for _, k := range v.Key {
		if !seen[k] {
			errs = append(errs, fmt.Sprintf("key column %q is not a column", k))
		}
		if inKey[k] {
			errs = append(errs, fmt.Sprintf("key column %q repeats", k))
		}
		inKey[k] = true
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid definition of view %q: %s", v.Name, strings.Join(errs, "; "))
	}
	return nil
}

// IdentityIndexes returns the positions of the columns that identify a row:
// the key columns, or all columns for a view without a key (a multiset).
func IdentityIndexes(v core.ViewDef) []int {
	if len(v.Key) > 0 {
		return v.KeyIndexes()
	}
	idx := make([]int, len(v.Columns))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// ChangelogSchema returns the canonical changelog schema of v: its columns,
// nullable, then the weight column.
func ChangelogSchema(v core.ViewDef) *arrow.Schema {
	return core.ChangelogSchema(core.ArrowSchema(v.Columns))
}

// CheckBatch returns an error unless b is a changelog batch whose data
// columns have v's types, in order. Column names are not compared: the
// position decides.
func CheckBatch(v core.ViewDef, b arrow.RecordBatch) error {
	if err := core.CheckChangelog(b); err != nil {
		return err
	}
	if got, want := int(b.NumCols())-1, len(v.Columns); got != want {
		return fmt.Errorf("changelog batch has %d data columns, the view has %d", got, want)
	}
	for i, c := range v.Columns {
		if dt := b.Column(i).DataType(); !arrow.TypeEqual(dt, c.Type.Arrow) {
			return fmt.Errorf("changelog batch column %d (%s) is %s, the view's column %q is %s", i, b.Schema().Field(i).Name, dt, c.Name, c.Type.Name)
		}
	}
	return nil
}

// Canonical returns b relabelled with schema (from ChangelogSchema), sharing
// b's columns. b must have passed CheckBatch. The caller must Release the
// result.
func Canonical(schema *arrow.Schema, b arrow.RecordBatch) arrow.RecordBatch {
	return array.NewRecordBatch(schema, b.Columns(), b.NumRows())
}

// Def rebuilds the core.ViewDef of a stored definition.
func (s Stored) Def() (core.ViewDef, error) {
	def := core.ViewDef{Name: s.Name, Key: s.Key}
	for _, sc := range s.Columns {
		t, err := core.ParseType(sc.Type)
		if err != nil {
			return core.ViewDef{}, fmt.Errorf("stored definition of view %q: %w", s.Name, err)
		}
		def.Columns = append(def.Columns, core.Column{Name: sc.Name, Type: t})
	}
	return def, nil
}

package format

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// Decoder turns raw records into rows of a changelog batch.
type Decoder interface {
	// Append decodes raw and appends it as one row with weight +1. When raw
	// cannot be decoded nothing is appended and the error says why, for
	// people (it becomes the dead letter's reason).
	Append(raw []byte) error
	// Len is the number of rows appended since the last Flush.
	Len() int
	// Flush returns the appended rows as a changelog batch, which the
	// caller must Release, or nil when no row was appended.
	Flush() arrow.RecordBatch
	// Release frees the decoder's builders.
	Release()
}

// Names lists the formats New accepts.
func Names() []string { return []string{"json"} }

// New returns a decoder of the named format for the declared columns.
func New(name string, cols []core.Column, mem memory.Allocator) (Decoder, error) {
	switch strings.ToLower(name) {
	case "", "json", "jsonl", "ndjson":
		return NewJSON(cols, mem), nil
	}
	return nil, fmt.Errorf("format: unknown format %q (known: %s)", name, strings.Join(Names(), ", "))
}

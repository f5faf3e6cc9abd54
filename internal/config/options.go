package config

import (
	"os"

	"github.com/stratadb/strata/engine/core"
)

// Option configures Load and Parse.
type Option interface{ apply(*options) }

// OptionSpec declares one option of a connector, so the options a
// deployment gives it can be checked before the connector is opened.
type OptionSpec struct {
	Name string
	// Kind is one of string, int, bool, duration, list, map; another kind
	// (or an empty one) is not checked.
	Kind     string
	Required bool
	Default  any
	Doc      string
}

type options struct {
	connectors     func(kind, connector string) ([]OptionSpec, bool)
	connectorNames map[string][]string // kind -> names, for hints
	storages       []string
	formats        []string
	env            func(string) (string, bool)
	schemas        SchemaFunc
}

func defaultOptions() options {
	return options{
		storages: []string{"duckdb", "pebble"},
		formats:  []string{"avro", "csv", "json", "parquet"},
		env:      os.LookupEnv,
	}
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithConnectors checks connector names and options against lookup: an
// unknown connector, an unknown option, a missing required option and an
// option of the wrong kind are problems. Without it connectors are not
// checked.
func WithConnectors(lookup func(kind, connector string) (spec []OptionSpec, ok bool)) Option {
	return optionFunc(func(o *options) { o.connectors = lookup })
}

// WithConnectorNames lists the connectors of a kind ("source" or "sink")
// that exist, so an unknown connector is reported with the known ones and a
// "did you mean". It is a companion of WithConnectors, whose lookup cannot
// enumerate.
func WithConnectorNames(kind string, names []string) Option {
	names = append([]string(nil), names...)
	return optionFunc(func(o *options) {
		if o.connectorNames == nil {
			o.connectorNames = map[string][]string{}
		}
		o.connectorNames[kind] = names
	})
}

// SchemaFunc reports the columns a connector produces with the given
// options when it has a fixed schema (a generator such as nexmark): ok is
// false for a connector whose columns are declared; cols is nil while the
// options do not tell yet; err says why the options can have no columns.
type SchemaFunc func(connector string, options map[string]any) (cols []core.Column, ok bool, err error)

// WithSchemas lets a source that declares no schema take its connector's
// fixed columns from fn; such a source does not need a schema for its
// format. A declared schema always wins.
func WithSchemas(fn SchemaFunc) Option {
	return optionFunc(func(o *options) { o.schemas = fn })
}

// WithStorages sets the backends a view may name in storage (default
// pebble, duckdb).
func WithStorages(names []string) Option {
	names = append([]string(nil), names...)
	return optionFunc(func(o *options) { o.storages = names })
}

// WithFormats sets the record formats a source may name (default json,
// csv, avro, parquet).
func WithFormats(names []string) Option {
	names = append([]string(nil), names...)
	return optionFunc(func(o *options) { o.formats = names })
}

// WithEnv sets how ${VAR} references in string values are resolved
// (default os.LookupEnv).
func WithEnv(lookup func(string) (string, bool)) Option {
	return optionFunc(func(o *options) {
		if lookup != nil {
			o.env = lookup
		}
	})
}

// Package deps pins the project's dependencies until real code imports them all.
package deps

import (
	_ "github.com/apache/arrow-go/v18/arrow"
	_ "github.com/cockroachdb/datadriven"
	_ "github.com/cockroachdb/pebble/v2"
	_ "github.com/duckdb/duckdb-go/v2"
	_ "github.com/tetratelabs/wazero"
	_ "github.com/twmb/franz-go/pkg/kgo"
	_ "github.com/twmb/franz-go/pkg/kadm"
	_ "github.com/wasilibs/go-pgquery"
	_ "go.uber.org/goleak"
	_ "gopkg.in/yaml.v3"
)

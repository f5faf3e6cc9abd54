package all_test

import (
	"testing"

	"github.com/stratadb/strata/connect"
	_ "github.com/stratadb/strata/connect/all"
)

func TestRegistered(t *testing.T) {
	for _, name := range []string{"datagen", "file", "kafka"} {
		if _, ok := connect.LookupSource(name); !ok {
			t.Errorf("source connector %q is not registered (have %v)", name, connect.SourceNames())
		}
	}
}

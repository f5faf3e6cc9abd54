package all

import (
	// Source connectors, registered from their init functions.
	_ "github.com/stratadb/strata/connect/file"
	_ "github.com/stratadb/strata/connect/gen"
	_ "github.com/stratadb/strata/connect/kafka"
	_ "github.com/stratadb/strata/connect/nexmark"
)

// Package deps pins modules the project requires before code imports them:
// wazero is the runtime of the WASM UDF host (udf/, its own issue). Remove
// an import here once real code imports the module.
package deps

import _ "github.com/tetratelabs/wazero"

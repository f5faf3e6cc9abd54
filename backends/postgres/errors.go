package postgres

import "errors"

var (
	// ErrNoServer is returned by Open when neither the dsn option nor
	// $STRATA_POSTGRES_DSN names a server.
	ErrNoServer = errors.New("no Postgres server configured")
	// ErrLocked is returned by Open when another process holds the
	// schema's writer lock for longer than Open waits: two engines must
	// not write one schema.
	ErrLocked = errors.New("another process writes to this schema")
)

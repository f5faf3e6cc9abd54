package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/pgwire"
)

// pgRunner answers the Postgres wire protocol with the DuckDB backend and
// gives DuckDB's errors their SQLSTATE.
type pgRunner struct{ q core.Querier }

func (p pgRunner) Query(ctx context.Context, sql string) (array.RecordReader, core.Epoch, error) {
	rd, epoch, err := p.q.Query(ctx, sql)
	if err != nil {
		return nil, 0, pgError(err)
	}
	return rd, epoch, nil
}

// duckStates maps DuckDB's error types to SQLSTATEs.
var duckStates = map[duckdb.ErrorType]string{
	duckdb.ErrorTypeParser:               pgwire.CodeSyntaxError,
	duckdb.ErrorTypeSyntax:               pgwire.CodeSyntaxError,
	duckdb.ErrorTypeCatalog:              pgwire.CodeUndefinedTable,
	duckdb.ErrorTypeBinder:               pgwire.CodeSyntaxErrorOrAccessRule,
	duckdb.ErrorTypeConversion:           pgwire.CodeInvalidTextRepresentation,
	duckdb.ErrorTypeOutOfRange:           pgwire.CodeNumericValueOutOfRange,
	duckdb.ErrorTypeDivideByZero:         pgwire.CodeDivisionByZero,
	duckdb.ErrorTypeInvalidInput:         pgwire.CodeInvalidParameterValue,
	duckdb.ErrorTypeMismatchType:         pgwire.CodeDatatypeMismatch,
	duckdb.ErrorTypeInvalidType:          pgwire.CodeDatatypeMismatch,
	duckdb.ErrorTypeNotImplemented:       pgwire.CodeFeatureNotSupported,
	duckdb.ErrorTypeInterrupt:            pgwire.CodeQueryCanceled,
	duckdb.ErrorTypeOutOfMemory:          pgwire.CodeOutOfMemory,
	duckdb.ErrorTypePermission:           pgwire.CodeInsufficientPrivilege,
	duckdb.ErrorTypeParameterNotResolved: pgwire.CodeIndeterminateDatatype,
	duckdb.ErrorTypeTransaction:          pgwire.CodeSerializationFailure,
}

// pgError turns a backend error into a pgwire.Error: DuckDB's own message
// (without our wrapping) and the SQLSTATE of its type; anything else is an
// internal error with its full text.
func pgError(err error) error {
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return err
	}
	code, ok := duckStates[de.Type]
	if !ok {
		code = pgwire.CodeInternalError
	}
	return &pgwire.Error{Code: code, Message: strings.TrimSpace(de.Msg)}
}

// servePostgres starts the Postgres wire protocol server on
// server.postgres when it is set (and the run is not --until-idle), over
// the DuckDB backend. The returned function stops it; defer it before the
// backends close. A server that cannot listen fails the run, as the HTTP
// server does.
func servePostgres(d *deployment, bs map[string]core.Backend, untilIdle bool, log *slog.Logger) (stop func(), err error) {
	stop = func() {}
	addr := d.cfg.Server.Postgres
	if addr == "" || untilIdle {
		return stop, nil
	}
	srv, ln, err := listenPostgres(addr, bs, log)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, pgwire.ErrServerClosed) {
			log.Error("postgres server stopped", "err", err)
		}
	}()
	log.Info("serving Postgres wire protocol", "addr", ln.Addr().String())
	return func() {
		_ = srv.Close()
		<-done
	}, nil
}

func listenPostgres(addr string, bs map[string]core.Backend, log *slog.Logger) (*pgwire.Server, net.Listener, error) {
	b, ok := bs["duckdb"]
	if !ok {
		return nil, nil, fmt.Errorf("server: postgres needs the duckdb backend; store at least one view in duckdb")
	}
	q, ok := b.(core.Querier)
	if !ok {
		return nil, nil, errors.New("server: postgres: the duckdb backend does not answer SQL")
	}
	srv, err := pgwire.NewServer(pgRunner{q}, pgwire.WithLogger(log))
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("server: postgres: listen on %s: %w (is another strata running? change server.postgres)", addr, err)
	}
	return srv, ln, nil
}

package pgwire

import (
	"errors"
	"strings"
)

// SQLSTATE codes the server sends (see the Postgres manual, appendix A).
const (
	CodeSuccessfulCompletion        = "00000"
	CodeProtocolViolation           = "08P01"
	CodeFeatureNotSupported         = "0A000"
	CodeCharacterNotInRepertoire    = "22021"
	CodeDivisionByZero              = "22012"
	CodeInvalidParameterValue       = "22023"
	CodeInvalidTextRepresentation   = "22P02"
	CodeInvalidBinaryRepresentation = "22P03"
	CodeNumericValueOutOfRange      = "22003"
	CodeInvalidTransactionState     = "25000"
	CodeReadOnlySQLTransaction      = "25006"
	CodeInFailedSQLTransaction      = "25P02"
	CodeInvalidPassword             = "28P01"
	CodeInvalidAuthorization        = "28000"
	CodeSerializationFailure        = "40001"
	CodeSyntaxErrorOrAccessRule     = "42000"
	CodeSyntaxError                 = "42601"
	CodeInsufficientPrivilege       = "42501"
	CodeUndefinedParameter          = "42P02"
	CodeUndefinedColumn             = "42703"
	CodeUndefinedObject             = "42704"
	CodeUndefinedTable              = "42P01"
	CodeDatatypeMismatch            = "42804"
	CodeIndeterminateDatatype       = "42P18"
	CodeDuplicatePreparedStatement  = "42P05"
	CodeInvalidSQLStatementName     = "26000"
	CodeInvalidCursorName           = "34000"
	CodeOutOfMemory                 = "53200"
	CodeQueryCanceled               = "57014"
	CodeAdminShutdown               = "57P01"
	CodeInternalError               = "XX000"
)

// Error is an error with a SQLSTATE, sent to the client as an
// ErrorResponse. A Runner returns one (or wraps one) to choose the code;
// any other error is sent as XX000 with its text.
type Error struct {
	Code    string // SQLSTATE, e.g. "42601"
	Message string
	Detail  string
	Hint    string
	// Position is the 1-based character position in the statement the
	// error refers to, or 0.
	Position int32
}

func (e *Error) Error() string {
	return "pgwire: " + e.Code + ": " + e.Message
}

func asError(err error, target **Error) bool { return errors.As(err, target) }

// toError turns any error into an *Error.
func toError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Code: CodeInternalError, Message: strings.TrimSpace(err.Error())}
}

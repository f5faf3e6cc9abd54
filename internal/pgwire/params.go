package pgwire

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
)

// Parameters are substituted into the statement as SQL literals, because
// the Runner takes SQL text only (core.Querier has no arguments). Safety
// rests on three rules, each tested with injection attempts:
//
//   - a value becomes a literal only through quoteString (one '...' string,
//     every ' doubled; DuckDB reads no backslash escapes in '...') or after
//     it parsed as a number or boolean, and numbers are parenthesised so a
//     negative value cannot form "--" with a preceding minus;
//   - text must be valid UTF-8 without NUL (Postgres refuses both too);
//   - only $n tokens outside strings, identifiers and comments are
//     replaced (see scan), so a literal's content is never rescanned.
//
// A typed parameter is wrapped in CAST(... AS T) so it keeps its type; an
// untyped one (OID 0 or unknown) stays a bare string literal, which DuckDB
// casts implicitly the way Postgres resolves "unknown".

// numericText matches the text of a finite number.
var numericText = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// quoteString makes s a SQL string literal.
func quoteString(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", &Error{Code: CodeCharacterNotInRepertoire, Message: "invalid byte sequence for encoding \"UTF8\""}
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", &Error{Code: CodeCharacterNotInRepertoire, Message: "invalid byte sequence for encoding \"UTF8\": 0x00"}
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
}

func castLit(lit string, oid uint32) string {
	return "CAST(" + lit + " AS " + pgTypes[oid].duck + ")"
}

// paramLiteral renders parameter n (1-based) of type oid, sent in format
// (0 text, 1 binary), as a SQL literal. val nil is NULL.
func paramLiteral(n int, oid uint32, format int16, val []byte, types *pgtype.Map) (string, error) {
	if _, known := pgTypes[oid]; !known && oid != 0 && oid != oidUnknown {
		// A type we do not model: treat its text like unknown.
		oid = 0
	}
	untyped := oid == 0 || oid == oidUnknown
	if val == nil {
		if untyped {
			return "NULL", nil
		}
		return castLit("NULL", oid), nil
	}
	bad := func(err error) error {
		return &Error{Code: CodeInvalidBinaryRepresentation, Message: fmt.Sprintf("invalid value for parameter $%d (%s): %v", n, typeName(oid), err)}
	}
	if format == 1 {
		if untyped {
			return "", &Error{Code: CodeProtocolViolation, Message: fmt.Sprintf("parameter $%d is sent in binary format but its type is unspecified", n)}
		}
		lit, err := binaryLiteral(oid, val, types)
		if err != nil {
			var pe *Error
			if asError(err, &pe) {
				return "", pe
			}
			return "", bad(err)
		}
		return lit, nil
	}
	s := string(val)
	badText := func() error {
		return &Error{Code: CodeInvalidTextRepresentation, Message: fmt.Sprintf("invalid input syntax for type %s: %q (parameter $%d)", typeName(oid), s, n)}
	}
	switch oid {
	case 0, oidUnknown:
		return quoteString(s)
	case oidBool:
		b, ok := parseBool(s)
		if !ok {
			return "", badText()
		}
		return strings.ToUpper(strconv.FormatBool(b)), nil
	case oidInt2, oidInt4, oidInt8, oidOID:
		bits := map[uint32]int{oidInt2: 16, oidInt4: 32, oidInt8: 64, oidOID: 64}[oid]
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, bits)
		if err != nil {
			return "", badText()
		}
		return castLit("("+strconv.FormatInt(v, 10)+")", oid), nil
	case oidFloat4, oidFloat8:
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return "", badText()
		}
		return floatLiteral(v, oid), nil
	case oidNumeric:
		t := strings.TrimSpace(s)
		if strings.EqualFold(t, "nan") {
			return "CAST('NaN' AS DOUBLE)", nil
		}
		if !numericText.MatchString(t) {
			return "", badText()
		}
		return "(" + t + ")", nil
	case oidBytea:
		b, err := parseByteaText(s)
		if err != nil {
			return "", badText()
		}
		return byteaLiteral(b), nil
	}
	q, err := quoteString(s)
	if err != nil {
		return "", err
	}
	return castLit(q, oid), nil
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, true
	case "f", "false", "n", "no", "off", "0":
		return false, true
	}
	return false, false
}

func floatLiteral(v float64, oid uint32) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return castLit("'"+formatFloat(v, 64)+"'", oid)
	}
	return castLit("("+strconv.FormatFloat(v, 'e', -1, 64)+")", oid)
}

func byteaLiteral(b []byte) string {
	return "from_hex('" + hex.EncodeToString(b) + "')"
}

// parseByteaText reads bytea's text forms: hex (\x0a0b) or escape (a\\b\001).
func parseByteaText(s string) ([]byte, error) {
	if h, ok := strings.CutPrefix(s, `\x`); ok {
		return hex.DecodeString(h)
	}
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(s):
			v, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
			if err != nil {
				return nil, err
			}
			out = append(out, byte(v))
			i += 3
		default:
			return nil, fmt.Errorf("bad escape")
		}
	}
	return out, nil
}

// binaryLiteral decodes a binary-format parameter of a known type.
func binaryLiteral(oid uint32, val []byte, types *pgtype.Map) (string, error) {
	need := func(n int) error {
		if len(val) != n {
			return fmt.Errorf("%d bytes, want %d", len(val), n)
		}
		return nil
	}
	switch oid {
	case oidBool:
		if err := need(1); err != nil {
			return "", err
		}
		if val[0] != 0 {
			return "TRUE", nil
		}
		return "FALSE", nil
	case oidInt2:
		if err := need(2); err != nil {
			return "", err
		}
		return castLit("("+strconv.Itoa(int(int16(binary.BigEndian.Uint16(val))))+")", oid), nil
	case oidInt4:
		if err := need(4); err != nil {
			return "", err
		}
		return castLit("("+strconv.Itoa(int(int32(binary.BigEndian.Uint32(val))))+")", oid), nil
	case oidInt8, oidOID:
		if oid == oidOID {
			if err := need(4); err != nil {
				return "", err
			}
			return castLit(strconv.FormatUint(uint64(binary.BigEndian.Uint32(val)), 10), oid), nil
		}
		if err := need(8); err != nil {
			return "", err
		}
		return castLit("("+strconv.FormatInt(int64(binary.BigEndian.Uint64(val)), 10)+")", oid), nil
	case oidFloat4:
		if err := need(4); err != nil {
			return "", err
		}
		return floatLiteral(float64(math.Float32frombits(binary.BigEndian.Uint32(val))), oid), nil
	case oidFloat8:
		if err := need(8); err != nil {
			return "", err
		}
		return floatLiteral(math.Float64frombits(binary.BigEndian.Uint64(val)), oid), nil
	case oidBytea:
		return byteaLiteral(val), nil
	case oidDate:
		if err := need(4); err != nil {
			return "", err
		}
		d := int32(binary.BigEndian.Uint32(val))
		switch d {
		case math.MaxInt32:
			return "CAST('infinity' AS DATE)", nil
		case math.MinInt32:
			return "CAST('-infinity' AS DATE)", nil
		}
		b, bc := appendYMD(nil, pgEpoch.AddDate(0, 0, int(d)))
		if bc {
			b = append(b, " (BC)"...)
		}
		return castLit("'"+string(b)+"'", oid), nil
	case oidTimestamp, oidTimestamptz:
		if err := need(8); err != nil {
			return "", err
		}
		us := int64(binary.BigEndian.Uint64(val))
		switch us {
		case math.MaxInt64:
			return castLit("'infinity'", oid), nil
		case math.MinInt64:
			return castLit("'-infinity'", oid), nil
		}
		t := time.UnixMicro(us + pgEpochMicros).UTC()
		s := t.Format("2006-01-02 15:04:05.999999")
		if oid == oidTimestamptz {
			s += "+00"
		}
		return castLit("'"+s+"'", oid), nil
	case oidTime:
		if err := need(8); err != nil {
			return "", err
		}
		return castLit("'"+string(appendTime(nil, int64(binary.BigEndian.Uint64(val)), false))+"'", oid), nil
	case oidInterval:
		if err := need(16); err != nil {
			return "", err
		}
		us := int64(binary.BigEndian.Uint64(val))
		days := int32(binary.BigEndian.Uint32(val[8:]))
		months := int32(binary.BigEndian.Uint32(val[12:]))
		return fmt.Sprintf("(INTERVAL %d MONTH + INTERVAL %d DAY + INTERVAL %d MICROSECOND)", months, days, us), nil
	case oidNumeric:
		var n pgtype.Numeric
		if err := types.Scan(oidNumeric, pgtype.BinaryFormatCode, val, &n); err != nil {
			return "", err
		}
		if n.NaN {
			return "CAST('NaN' AS DOUBLE)", nil
		}
		if n.InfinityModifier != pgtype.Finite {
			return castLit(map[pgtype.InfinityModifier]string{pgtype.Infinity: "'Infinity'", pgtype.NegativeInfinity: "'-Infinity'"}[n.InfinityModifier], oidFloat8), nil
		}
		s := insertPoint(n.Int.String(), max(-n.Exp, 0))
		if n.Exp > 0 {
			s = n.Int.String() + strings.Repeat("0", int(n.Exp))
		}
		return "(" + s + ")", nil
	case oidUUID:
		if err := need(16); err != nil {
			return "", err
		}
		h := hex.EncodeToString(val)
		return castLit("'"+h[:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:]+"'", oid), nil
	case oidJSONB:
		if len(val) == 0 || val[0] != 1 {
			return "", fmt.Errorf("unsupported jsonb version")
		}
		q, err := quoteString(string(val[1:]))
		if err != nil {
			return "", err
		}
		return castLit(q, oid), nil
	case oidText, oidVarchar, oidBpchar, oidName, oidJSON:
		q, err := quoteString(string(val))
		if err != nil {
			return "", err
		}
		return castLit(q, oid), nil
	}
	return "", &Error{Code: CodeFeatureNotSupported, Message: fmt.Sprintf("binary format for parameters of type %s is not supported; send it as text", typeName(oid))}
}

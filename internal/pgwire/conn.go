package pgwire

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/stratadb/strata/engine/core"
)

// Transaction status bytes of ReadyForQuery.
const (
	txIdle   = 'I'
	txBlock  = 'T'
	txFailed = 'E'
)

// maxMessage bounds a client message (a query text with its parameters).
const maxMessage = 64 << 20

// conn is one client connection. Its goroutine owns everything but the
// running query's cancel function, which CancelRequest reaches under mu.
type conn struct {
	srv    *Server
	nc     net.Conn
	be     *pgproto3.Backend
	pid    uint32
	secret [4]byte
	sess   *session
	enc    encoder
	types  *pgtype.Map

	stmts   map[string]*statement
	portals map[string]*portal
	tx      byte
	// skipping: an extended-protocol message failed; ignore messages up
	// to the next Sync.
	skipping bool
	epoch    core.Epoch

	mu     sync.Mutex
	cancel context.CancelFunc

	row    [][]byte
	rowBuf []byte
}

// portal is a bound statement: its SQL with parameters substituted, the
// result formats the client asked for, and once opened its result.
type portal struct {
	stmt    *statement
	sql     string
	formats []int16

	opened  bool
	fields  []field // nil: the statement returns no rows
	rd      array.RecordReader
	batch   arrow.RecordBatch // borrowed from rd, valid until rd.Next
	rowIdx  int
	text    [][]*string // rows answered by the server itself
	tag     string      // command tag of a statement without rows
	sent    int64
	epoch   core.Epoch
	isRead  bool // the result came from the Runner
	done    bool
	ctx     context.Context
	release context.CancelFunc
}

func (p *portal) close() {
	if p.rd != nil {
		p.rd.Release()
		p.rd = nil
	}
	if p.release != nil {
		p.release()
		p.release = nil
	}
	p.batch = nil
}

func newConn(s *Server, nc net.Conn) *conn {
	types := pgtype.NewMap()
	c := &conn{srv: s, nc: nc, types: types, enc: encoder{types: types},
		stmts: map[string]*statement{}, portals: map[string]*portal{}, tx: txIdle}
	c.be = pgproto3.NewBackend(nc, nc)
	c.be.SetMaxBodyLen(maxMessage)
	return c
}

func (c *conn) closePortals() {
	for k, p := range c.portals {
		p.close()
		delete(c.portals, k)
	}
}

func (c *conn) cancelRunning() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
}

// queryContext returns the context for a query the client may cancel.
func (c *conn) queryContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(c.srv.ctx)
	c.mu.Lock()
	c.cancel = cancel
	c.mu.Unlock()
	return ctx, func() {
		c.mu.Lock()
		c.cancel = nil
		c.mu.Unlock()
		cancel()
	}
}

func (c *conn) serve() error {
	ok, err := c.startup()
	if err != nil || !ok {
		return err
	}
	for {
		msg, err := c.be.Receive()
		if err != nil {
			return err
		}
		if c.skipping {
			switch msg.(type) {
			case *pgproto3.Sync, *pgproto3.Terminate, *pgproto3.Query:
			default:
				continue
			}
		}
		var ext error // an extended-protocol error
		switch m := msg.(type) {
		case *pgproto3.Query:
			c.simpleQuery(m.String)
			if err := c.be.Flush(); err != nil {
				return err
			}
		case *pgproto3.Parse:
			ext = c.parse(m)
		case *pgproto3.Bind:
			ext = c.bind(m)
		case *pgproto3.Describe:
			ext = c.describe(m)
		case *pgproto3.Execute:
			ext = c.execute(m)
		case *pgproto3.Close:
			if m.ObjectType == 'S' {
				delete(c.stmts, m.Name)
			} else if p := c.portals[m.Name]; p != nil {
				p.close()
				delete(c.portals, m.Name)
			}
			c.be.Send(&pgproto3.CloseComplete{})
		case *pgproto3.Sync:
			c.skipping = false
			if c.tx == txIdle {
				c.closePortals()
			}
			c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.tx})
			if err := c.be.Flush(); err != nil {
				return err
			}
		case *pgproto3.Flush:
			if err := c.be.Flush(); err != nil {
				return err
			}
		case *pgproto3.Terminate:
			return nil
		default:
			ext = &Error{Code: CodeProtocolViolation, Message: fmt.Sprintf("unsupported message %T", msg)}
		}
		if ext != nil {
			c.sendError(ext)
			c.skipping = true
		}
	}
}

// startup runs the start-up phase: SSL/GSS refusal, protocol negotiation,
// authentication and the session's parameters. ok is false when the
// connection ends here (a cancel request, failed authentication).
func (c *conn) startup() (ok bool, err error) {
	var sm *pgproto3.StartupMessage
	for sm == nil {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			return false, err
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			// No TLS yet: the client continues in clear text or gives up.
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return false, err
			}
		case *pgproto3.CancelRequest:
			c.srv.cancelQuery(m.ProcessID, m.SecretKey)
			return false, nil
		case *pgproto3.StartupMessage:
			sm = m
		}
	}
	var unknownOpts []string
	for k := range sm.Parameters {
		if strings.HasPrefix(k, "_pq_.") {
			unknownOpts = append(unknownOpts, k)
		}
	}
	if sm.ProtocolVersion != pgproto3.ProtocolVersion30 || len(unknownOpts) > 0 {
		c.be.Send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknownOpts})
	}
	user := sm.Parameters["user"]
	if user == "" {
		c.fatal(&Error{Code: CodeInvalidAuthorization, Message: "no PostgreSQL user name specified in startup packet"})
		return false, nil
	}
	if ok, err := c.authenticate(user); !ok || err != nil {
		return false, err
	}
	c.sess = newSession(c.srv.cfg.version, user, sm.Parameters["application_name"])
	c.srv.register(c)
	c.be.Send(&pgproto3.AuthenticationOk{})
	for _, kv := range c.sess.reported() {
		c.be.Send(&pgproto3.ParameterStatus{Name: kv[0], Value: kv[1]})
	}
	c.be.Send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret[:]})
	c.be.Send(&pgproto3.ReadyForQuery{TxStatus: txIdle})
	return true, c.be.Flush()
}

func (c *conn) authenticate(user string) (bool, error) {
	cfg := c.srv.cfg
	var want string
	switch cfg.method {
	case AuthTrust:
		return true, nil
	case AuthCleartext:
		c.be.Send(&pgproto3.AuthenticationCleartextPassword{})
		if err := c.be.SetAuthType(pgproto3.AuthTypeCleartextPassword); err != nil {
			return false, err
		}
		want = cfg.password
	case AuthMD5:
		var salt [4]byte
		_, _ = rand.Read(salt[:])
		c.be.Send(&pgproto3.AuthenticationMD5Password{Salt: salt})
		if err := c.be.SetAuthType(pgproto3.AuthTypeMD5Password); err != nil {
			return false, err
		}
		want = md5Password(user, cfg.password, salt)
	}
	if err := c.be.Flush(); err != nil {
		return false, err
	}
	msg, err := c.be.Receive()
	if err != nil {
		return false, err
	}
	pm, ok := msg.(*pgproto3.PasswordMessage)
	if !ok || subtle.ConstantTimeCompare([]byte(pm.Password), []byte(want)) != 1 {
		c.fatal(&Error{Code: CodeInvalidPassword, Message: fmt.Sprintf("password authentication failed for user %q", user)})
		return false, nil
	}
	return true, nil
}

// md5Password is what a client sends for AuthenticationMD5Password:
// "md5" + md5hex(md5hex(password + user) + salt).
func md5Password(user, password string, salt [4]byte) string {
	inner := md5.Sum([]byte(password + user))
	outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), salt[:]...))
	return "md5" + hex.EncodeToString(outer[:])
}

func (c *conn) fatal(e *Error) {
	c.be.Send(errorResponse(e, "FATAL"))
	_ = c.be.Flush()
}

func errorResponse(e *Error, severity string) *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{Severity: severity, SeverityUnlocalized: severity, Code: e.Code,
		Message: e.Message, Detail: e.Detail, Hint: e.Hint, Position: e.Position}
}

// sendError answers an error and fails an open transaction block.
func (c *conn) sendError(err error) {
	c.be.Send(errorResponse(toError(err), "ERROR"))
	if c.tx == txBlock {
		c.tx = txFailed
	}
}

// simpleQuery runs a Query message: each statement in turn until one fails.
func (c *conn) simpleQuery(q string) {
	defer func() { c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.tx}) }()
	parts := splitStatements(q)
	if len(parts) == 0 {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return
	}
	for _, sql := range parts {
		st, err := parseStatement(sql, nil)
		if err == nil && st.nParams > 0 && st.kind != kindPrepare {
			err = &Error{Code: CodeUndefinedParameter, Message: fmt.Sprintf("there is no parameter $%d", st.nParams),
				Hint: "parameters need the extended protocol, or PREPARE and EXECUTE"}
		}
		if err != nil {
			c.sendError(err)
			return
		}
		p := &portal{stmt: st, sql: sql}
		err = c.run(p, true, 0)
		p.close()
		if err != nil {
			c.sendError(err)
			return
		}
	}
	if c.tx == txIdle {
		c.closePortals()
	}
}

// run executes a portal: opens it (unless Describe did), sends its rows
// and completes it. describe sends RowDescription first (simple query).
// maxRows > 0 suspends after that many rows.
func (c *conn) run(p *portal, describe bool, maxRows int) error {
	if c.tx == txFailed {
		switch p.stmt.kind {
		case kindCommit, kindRollback:
		default:
			return &Error{Code: CodeInFailedSQLTransaction, Message: "current transaction is aborted, commands ignored until end of transaction block"}
		}
	}
	if !p.opened {
		if err := c.open(p); err != nil {
			return err
		}
		if describe && p.fields != nil {
			c.be.Send(c.rowDescription(p.fields, p.formats))
		}
	}
	if p.stmt.kind == kindEmpty {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	if p.fields == nil {
		if p.done {
			return &Error{Code: CodeInvalidCursorName, Message: "portal has already been run"}
		}
		p.done = true
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(p.tag)})
		return nil
	}
	suspended, err := c.sendRows(p, maxRows)
	if err != nil {
		return err
	}
	if suspended {
		c.be.Send(&pgproto3.PortalSuspended{})
		return nil
	}
	if p.isRead && p.epoch != c.epoch {
		c.epoch = p.epoch
		c.sess.values["strata_epoch"] = strconv.FormatUint(uint64(p.epoch), 10)
		c.be.Send(&pgproto3.ParameterStatus{Name: "strata_epoch", Value: c.sess.values["strata_epoch"]})
	}
	tag := "SELECT " + strconv.FormatInt(p.sent, 10)
	if w := words(p.sql, 1); len(w) == 1 && w[0] == "explain" {
		tag = "EXPLAIN"
	} else if p.stmt.kind == kindShow && !p.isRead {
		tag = "SHOW"
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	p.close()
	return nil
}

// open runs a portal's statement: session statements act now and set a
// command tag; queries open their result.
func (c *conn) open(p *portal) error {
	p.opened = true
	st := p.stmt
	switch st.kind {
	case kindEmpty:
	case kindRefused:
		return st.refusal
	case kindSet:
		if st.name == "" {
			return &Error{Code: CodeSyntaxError, Message: "syntax error: SET needs a name and a value"}
		}
		if _, report := c.sess.set(st.name, st.value); report {
			c.be.Send(&pgproto3.ParameterStatus{Name: settings[st.name].name, Value: c.sess.values[st.name]})
		}
		p.tag = "SET"
	case kindReset:
		if st.name == "all" {
			c.sess.resetAll()
		} else {
			c.sess.reset(st.name)
		}
		p.tag = "RESET"
	case kindBegin:
		if c.tx == txIdle {
			c.tx = txBlock
		}
		p.tag = "BEGIN"
	case kindCommit:
		p.tag = "COMMIT"
		if c.tx == txFailed {
			p.tag = "ROLLBACK"
		}
		c.tx = txIdle
	case kindRollback:
		c.tx = txIdle
		p.tag = "ROLLBACK"
	case kindDiscard:
		c.sess.resetAll()
		for k := range c.stmts {
			if k != "" {
				delete(c.stmts, k)
			}
		}
		p.tag = "DISCARD " + strings.ToUpper(st.name)
	case kindPrepare:
		if _, dup := c.stmts[st.name]; dup {
			return &Error{Code: CodeDuplicatePreparedStatement, Message: fmt.Sprintf("prepared statement %q already exists", st.name)}
		}
		c.stmts[st.name] = st.inner
		p.tag = "PREPARE"
	case kindDeallocate:
		if st.name == "all" {
			clear(c.stmts)
			p.tag = "DEALLOCATE ALL"
		} else {
			if _, ok := c.stmts[st.name]; !ok {
				return &Error{Code: CodeInvalidSQLStatementName, Message: fmt.Sprintf("prepared statement %q does not exist", st.name)}
			}
			delete(c.stmts, st.name)
			p.tag = "DEALLOCATE"
		}
	case kindExecute:
		inner, sql, err := c.resolveExecute(st)
		if err != nil {
			return err
		}
		p.stmt, p.sql = inner, sql
		err = c.open(p)
		p.stmt = st
		return err
	case kindVersion:
		v := "PostgreSQL " + c.sess.values["server_version"] + " on strata, compiled by Go"
		p.fields = []field{{name: "version", oid: oidText, size: -1, mod: -1}}
		p.text = [][]*string{{&v}}
	case kindShow:
		if f, rows, ok := c.show(st.name); ok {
			p.fields, p.text = f, rows
			return nil
		}
		return c.query(p)
	case kindQuery:
		return c.query(p)
	}
	return nil
}

// resolveExecute turns EXECUTE name(args) into the prepared statement and
// its SQL with the argument expressions in place of $n.
func (c *conn) resolveExecute(st *statement) (*statement, string, error) {
	inner, ok := c.stmts[st.name]
	if !ok {
		return nil, "", &Error{Code: CodeInvalidSQLStatementName, Message: fmt.Sprintf("prepared statement %q does not exist", st.name)}
	}
	if len(st.args) != inner.nParams {
		return nil, "", &Error{Code: CodeSyntaxError, Message: fmt.Sprintf("wrong number of parameters for prepared statement %q", st.name),
			Detail: fmt.Sprintf("Expected %d parameters but got %d.", inner.nParams, len(st.args))}
	}
	lits := make([]string, len(st.args))
	for i, a := range st.args {
		// The arguments are SQL the user wrote in this statement, so they
		// go in as expressions, parenthesised.
		lits[i] = "(" + a + ")"
		if oid := inner.paramOIDs[i]; oid != 0 {
			lits[i] = castLit(lits[i], oid)
		}
	}
	return inner, substitute(inner.sql, lits), nil
}

// show answers SHOW name from the session; ok is false for names it does
// not know (SHOW TABLES and the like go to the Runner).
func (c *conn) show(name string) ([]field, [][]*string, bool) {
	if name == "all" {
		f := []field{{name: "name", oid: oidText, size: -1, mod: -1}, {name: "setting", oid: oidText, size: -1, mod: -1}}
		var rows [][]*string
		for _, kv := range c.sess.all() {
			rows = append(rows, []*string{&kv[0], &kv[1]})
		}
		return f, rows, true
	}
	v, ok := c.sess.get(name)
	if !ok {
		return nil, nil, false
	}
	col := name
	if def, ok := settings[name]; ok {
		col = def.name
	}
	return []field{{name: strings.ToLower(col), oid: oidText, size: -1, mod: -1}}, [][]*string{{&v}}, true
}

// query runs a portal's SQL on the Runner.
func (c *conn) query(p *portal) error {
	ctx, release := c.queryContext()
	rd, epoch, err := c.srv.runner.Query(ctx, p.sql)
	if err != nil {
		err = queryError(ctx, err)
		release()
		return err
	}
	p.rd, p.epoch, p.isRead, p.ctx, p.release = rd, epoch, true, ctx, release
	schema := rd.Schema()
	p.fields = make([]field, schema.NumFields())
	for i, f := range schema.Fields() {
		p.fields[i] = fieldFor(f.Name, f.Type)
	}
	if err := checkFormats(p.formats, len(p.fields)); err != nil {
		return err
	}
	// A statement described before binding promised column types; a
	// binary column must keep its type or the client misreads it.
	if st := p.stmt; st.described && st.fields != nil {
		if len(st.fields) != len(p.fields) {
			return &Error{Code: CodeFeatureNotSupported, Message: fmt.Sprintf("the statement returned %d columns but was described with %d; cast its parameters to fixed types", len(p.fields), len(st.fields))}
		}
		for i, f := range p.fields {
			if f.oid != st.fields[i].oid && formatOf(p.formats, i) == 1 {
				return &Error{Code: CodeFeatureNotSupported, Message: fmt.Sprintf("column %q is %s but was described as %s; cast its parameters to fixed types", f.name, typeName(f.oid), typeName(st.fields[i].oid))}
			}
		}
	}
	return nil
}

func queryError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &Error{Code: CodeQueryCanceled, Message: "canceling statement due to user request"}
	}
	return err
}

func checkFormats(formats []int16, n int) error {
	if len(formats) > 1 && len(formats) != n {
		return &Error{Code: CodeProtocolViolation, Message: fmt.Sprintf("bind message has %d result formats but query has %d columns", len(formats), n)}
	}
	for _, f := range formats {
		if f != 0 && f != 1 {
			return &Error{Code: CodeProtocolViolation, Message: fmt.Sprintf("unsupported format code: %d", f)}
		}
	}
	return nil
}

func formatOf(formats []int16, i int) int16 {
	switch len(formats) {
	case 0:
		return 0
	case 1:
		return formats[0]
	}
	return formats[i]
}

func (c *conn) rowDescription(fields []field, formats []int16) *pgproto3.RowDescription {
	rd := &pgproto3.RowDescription{Fields: make([]pgproto3.FieldDescription, len(fields))}
	for i, f := range fields {
		rd.Fields[i] = pgproto3.FieldDescription{Name: []byte(f.name), DataTypeOID: f.oid,
			DataTypeSize: f.size, TypeModifier: f.mod, Format: formatOf(formats, i)}
	}
	return rd
}

// sendRows sends DataRows until the result ends or maxRows (> 0) rows
// were sent by this call.
func (c *conn) sendRows(p *portal, maxRows int) (suspended bool, err error) {
	n := 0
	if p.text != nil || p.rd == nil {
		for len(p.text) > 0 {
			if maxRows > 0 && n >= maxRows {
				return true, nil
			}
			c.row = c.row[:0]
			for _, v := range p.text[0] {
				if v == nil {
					c.row = append(c.row, nil)
				} else {
					c.row = append(c.row, []byte(*v))
				}
			}
			c.be.Send(&pgproto3.DataRow{Values: c.row})
			p.text = p.text[1:]
			p.sent++
			n++
		}
		return false, nil
	}
	for {
		if p.batch == nil || p.rowIdx >= int(p.batch.NumRows()) {
			if p.batch != nil {
				// Let a large result stream instead of buffering it whole.
				if err := c.be.Flush(); err != nil {
					return false, err
				}
			}
			if err := p.ctx.Err(); err != nil {
				return false, queryError(p.ctx, err)
			}
			if !p.rd.Next() {
				if err := p.rd.Err(); err != nil {
					return false, queryError(p.ctx, err)
				}
				return false, nil
			}
			p.batch, p.rowIdx = p.rd.RecordBatch(), 0
			continue
		}
		if maxRows > 0 && n >= maxRows {
			return true, nil
		}
		if err := c.sendRow(p, p.batch, p.rowIdx); err != nil {
			return false, err
		}
		p.rowIdx++
		p.sent++
		n++
	}
}

func (c *conn) sendRow(p *portal, b arrow.RecordBatch, i int) error {
	c.rowBuf = c.rowBuf[:0]
	ends := make([]int, 0, b.NumCols())
	for col := 0; col < int(b.NumCols()); col++ {
		arr := b.Column(col)
		if arr.IsNull(i) {
			ends = append(ends, -1)
			continue
		}
		var err error
		c.rowBuf, err = c.enc.appendValue(c.rowBuf, arr, i, formatOf(p.formats, col) == 1)
		if err != nil {
			return err
		}
		ends = append(ends, len(c.rowBuf))
	}
	c.row = c.row[:0]
	start := 0
	for _, e := range ends {
		if e < 0 {
			c.row = append(c.row, nil)
			continue
		}
		c.row = append(c.row, c.rowBuf[start:e:e])
		start = e
	}
	c.be.Send(&pgproto3.DataRow{Values: c.row})
	return nil
}

// parse handles Parse: it classifies the statement and stores it.
func (c *conn) parse(m *pgproto3.Parse) error {
	if m.Name != "" {
		if _, dup := c.stmts[m.Name]; dup {
			return &Error{Code: CodeDuplicatePreparedStatement, Message: fmt.Sprintf("prepared statement %q already exists", m.Name)}
		}
	}
	parts := splitStatements(m.Query)
	if len(parts) > 1 {
		return &Error{Code: CodeSyntaxError, Message: "cannot insert multiple commands into a prepared statement"}
	}
	sql := ""
	if len(parts) == 1 {
		sql = parts[0]
	}
	st, err := parseStatement(sql, append([]uint32(nil), m.ParameterOIDs...))
	if err != nil {
		return err
	}
	c.stmts[m.Name] = st
	c.be.Send(&pgproto3.ParseComplete{})
	return nil
}

// bind handles Bind: it substitutes the parameters and makes a portal.
func (c *conn) bind(m *pgproto3.Bind) error {
	st, ok := c.stmts[m.PreparedStatement]
	if !ok {
		return &Error{Code: CodeInvalidSQLStatementName, Message: fmt.Sprintf("prepared statement %q does not exist", m.PreparedStatement)}
	}
	if len(m.Parameters) != st.nParams {
		return &Error{Code: CodeProtocolViolation, Message: fmt.Sprintf("bind message supplies %d parameters, but prepared statement %q requires %d", len(m.Parameters), m.PreparedStatement, st.nParams)}
	}
	if n := len(m.ParameterFormatCodes); n > 1 && n != len(m.Parameters) {
		return &Error{Code: CodeProtocolViolation, Message: fmt.Sprintf("bind message has %d parameter formats but %d parameters", n, len(m.Parameters))}
	}
	lits := make([]string, len(m.Parameters))
	for i, v := range m.Parameters {
		lit, err := paramLiteral(i+1, st.paramOIDs[i], formatOf(m.ParameterFormatCodes, i), v, c.types)
		if err != nil {
			return err
		}
		lits[i] = lit
	}
	if old := c.portals[m.DestinationPortal]; old != nil {
		if m.DestinationPortal != "" {
			return &Error{Code: "42P03", Message: fmt.Sprintf("portal %q already exists", m.DestinationPortal)}
		}
		old.close()
	}
	sql := st.sql
	if len(lits) > 0 {
		sql = substitute(st.sql, lits)
	}
	c.portals[m.DestinationPortal] = &portal{stmt: st, sql: sql, formats: append([]int16(nil), m.ResultFormatCodes...)}
	c.be.Send(&pgproto3.BindComplete{})
	return nil
}

// describe handles Describe of a statement (ParameterDescription, then
// RowDescription or NoData) or of a portal (RowDescription or NoData).
func (c *conn) describe(m *pgproto3.Describe) error {
	if m.ObjectType == 'P' {
		p, ok := c.portals[m.Name]
		if !ok {
			return &Error{Code: CodeInvalidCursorName, Message: fmt.Sprintf("portal %q does not exist", m.Name)}
		}
		if !p.opened {
			if c.tx == txFailed {
				return &Error{Code: CodeInFailedSQLTransaction, Message: "current transaction is aborted, commands ignored until end of transaction block"}
			}
			if !returnsRows(p.stmt) {
				c.be.Send(&pgproto3.NoData{})
				return nil
			}
			if err := c.open(p); err != nil {
				return err
			}
		}
		if p.fields == nil {
			c.be.Send(&pgproto3.NoData{})
		} else {
			c.be.Send(c.rowDescription(p.fields, p.formats))
		}
		return nil
	}
	st, ok := c.stmts[m.Name]
	if !ok {
		return &Error{Code: CodeInvalidSQLStatementName, Message: fmt.Sprintf("prepared statement %q does not exist", m.Name)}
	}
	fields, err := c.describeStatement(st)
	if err != nil {
		return err
	}
	c.be.Send(&pgproto3.ParameterDescription{ParameterOIDs: st.paramOIDs})
	if fields == nil {
		c.be.Send(&pgproto3.NoData{})
	} else {
		c.be.Send(c.rowDescription(fields, nil))
	}
	return nil
}

// returnsRows reports whether a statement may return rows (so describing
// its portal has to run it).
func returnsRows(st *statement) bool {
	switch st.kind {
	case kindQuery, kindShow, kindVersion, kindExecute:
		return true
	}
	return false
}

// describeStatement finds a statement's result columns without its
// parameters: it runs the statement with NULLs for them under LIMIT 0.
func (c *conn) describeStatement(st *statement) ([]field, error) {
	if st.described {
		return st.fields, nil
	}
	var fields []field
	switch st.kind {
	case kindVersion:
		fields = []field{{name: "version", oid: oidText, size: -1, mod: -1}}
	case kindShow:
		if f, _, ok := c.show(st.name); ok {
			fields = f
			break
		}
		fallthrough
	case kindQuery:
		ctx, release := c.queryContext()
		defer release()
		rd, err := c.describeQuery(ctx, st)
		if err != nil {
			return nil, err
		}
		schema := rd.Schema()
		rd.Release()
		fields = make([]field, schema.NumFields())
		for i, f := range schema.Fields() {
			fields[i] = fieldFor(f.Name, f.Type)
		}
	case kindRefused:
		return nil, st.refusal
	case kindExecute:
		inner, ok := c.stmts[st.name]
		if !ok {
			return nil, &Error{Code: CodeInvalidSQLStatementName, Message: fmt.Sprintf("prepared statement %q does not exist", st.name)}
		}
		return c.describeStatement(inner)
	}
	st.fields, st.described = fields, true
	return fields, nil
}

// describeQuery opens a statement's result without its parameters. A
// typed parameter becomes CAST(NULL AS T); an untyped one first the string
// literal '0' (at run time it is a string literal too, so DuckDB resolves
// the same result types), then NULL if that fails (as in date = '0'). The
// statement is wrapped in LIMIT 0, or run as it is when it does not nest
// (EXPLAIN, SHOW TABLES).
func (c *conn) describeQuery(ctx context.Context, st *statement) (array.RecordReader, error) {
	attempt := func(untyped string) (array.RecordReader, string, error) {
		lits := make([]string, st.nParams)
		for i, oid := range st.paramOIDs {
			lits[i] = untyped
			if _, ok := pgTypes[oid]; ok {
				lits[i] = castLit("NULL", oid)
			}
		}
		sql := substitute(st.sql, lits)
		rd, _, err := c.srv.runner.Query(ctx, "SELECT * FROM ("+sql+"\n) AS strata_describe LIMIT 0")
		return rd, sql, err
	}
	untypedParams := slices.Contains(st.paramOIDs, 0)
	if untypedParams {
		if rd, _, err := attempt("'0'"); err == nil {
			return rd, nil
		}
	}
	rd, sql, err := attempt("NULL")
	if err == nil {
		return rd, nil
	}
	rd, _, err = c.srv.runner.Query(ctx, sql)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return rd, nil
}

// execute handles Execute of a portal.
func (c *conn) execute(m *pgproto3.Execute) error {
	p, ok := c.portals[m.Portal]
	if !ok {
		return &Error{Code: CodeInvalidCursorName, Message: fmt.Sprintf("portal %q does not exist", m.Portal)}
	}
	err := c.run(p, false, int(m.MaxRows))
	if err != nil {
		p.close()
		delete(c.portals, m.Portal)
	}
	return err
}

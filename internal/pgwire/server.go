package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/stratadb/strata/engine/core"
)

// Runner runs one read-only SQL statement (parameters already substituted)
// and returns its result and the epoch it read. The caller Releases the
// reader. A Runner must be safe for concurrent use: each connection calls
// it from its own goroutine. core.Querier satisfies it.
type Runner interface {
	Query(ctx context.Context, sql string) (array.RecordReader, core.Epoch, error)
}

// AuthMethod is how clients prove the password.
type AuthMethod int

const (
	// AuthTrust accepts every client (the default without a password).
	AuthTrust AuthMethod = iota
	// AuthCleartext asks for the password in clear text; use it only on
	// loopback or behind TLS.
	AuthCleartext
	// AuthMD5 asks for Postgres' salted MD5 digest of user and password
	// (the default with a password).
	AuthMD5
)

func (m AuthMethod) String() string {
	switch m {
	case AuthTrust:
		return "trust"
	case AuthCleartext:
		return "password"
	case AuthMD5:
		return "md5"
	}
	return fmt.Sprintf("AuthMethod(%d)", int(m))
}

// Option configures a Server.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithLogger sets the logger for connection errors (default: discard).
func WithLogger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.log = l }) }

// WithPassword requires clients to send password (any user name). The
// method defaults to AuthMD5.
func WithPassword(password string) Option {
	return optionFunc(func(c *config) { c.password, c.hasPassword = password, true })
}

// WithAuthMethod chooses how the password is checked.
func WithAuthMethod(m AuthMethod) Option {
	return optionFunc(func(c *config) { c.method, c.methodSet = m, true })
}

// WithServerVersion sets the server_version reported to clients (default
// "16.0 (Strata)"); drivers read the leading number.
func WithServerVersion(v string) Option { return optionFunc(func(c *config) { c.version = v }) }

type config struct {
	log         *slog.Logger
	password    string
	hasPassword bool
	method      AuthMethod
	methodSet   bool
	version     string
}

func defaultConfig() config {
	return config{log: slog.New(slog.NewTextHandler(io.Discard, nil)), version: "16.0 (Strata)"}
}

func (c *config) validate() error {
	var errs []error
	if c.hasPassword && !c.methodSet {
		c.method = AuthMD5
	}
	switch c.method {
	case AuthTrust:
		if c.hasPassword {
			errs = append(errs, errors.New("pgwire: a password is set but the auth method is trust"))
		}
	case AuthCleartext, AuthMD5:
		if !c.hasPassword {
			errs = append(errs, fmt.Errorf("pgwire: auth method %s needs WithPassword", c.method))
		}
	default:
		errs = append(errs, fmt.Errorf("pgwire: unknown auth method %d", int(c.method)))
	}
	if c.log == nil {
		errs = append(errs, errors.New("pgwire: nil logger"))
	}
	return errors.Join(errs...)
}

// Server speaks the server side of the Postgres frontend/backend protocol
// (version 3) and answers queries with a Runner.
type Server struct {
	cfg    config
	runner Runner

	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	lns     map[net.Listener]struct{}
	conns   map[uint32]*conn
	closed  bool
	wg      sync.WaitGroup
	nextPID atomic.Uint32
}

// NewServer returns a server that answers with r.
func NewServer(r Runner, opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if r == nil {
		return nil, errors.New("pgwire: nil Runner")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, runner: r, ctx: ctx, cancel: cancel, lns: map[net.Listener]struct{}{}, conns: map[uint32]*conn{}}, nil
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("pgwire: server closed")

// Serve accepts connections on ln until Close, serving each on its own
// goroutine. It always returns a non-nil error; after Close it is
// ErrServerClosed. Serve closes ln.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.lns, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("pgwire: accept: %w", err)
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return ErrServerClosed
		}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(nc)
		}()
	}
}

// Close stops accepting, cancels running queries, closes every connection
// and waits for their goroutines. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for ln := range s.lns {
		ln.Close()
	}
	for _, c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

func (s *Server) serveConn(nc net.Conn) {
	defer nc.Close()
	c := newConn(s, nc)
	if err := c.serve(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		s.cfg.log.Debug("postgres connection ended", "remote", nc.RemoteAddr().String(), "err", err)
	}
	c.closePortals()
	s.mu.Lock()
	if s.conns[c.pid] == c {
		delete(s.conns, c.pid)
	}
	s.mu.Unlock()
}

// register gives c a process ID and secret key for cancel requests.
func (s *Server) register(c *conn) {
	c.pid = s.nextPID.Add(1)
	_, _ = rand.Read(c.secret[:])
	s.mu.Lock()
	s.conns[c.pid] = c
	s.mu.Unlock()
}

// cancelQuery answers a CancelRequest: it cancels the running query of the
// connection with that process ID if the secret key matches.
func (s *Server) cancelQuery(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.conns[pid]
	s.mu.Unlock()
	if c == nil || len(secret) != 4 || subtle.ConstantTimeCompare(c.secret[:], secret) != 1 {
		return
	}
	c.cancelRunning()
}

package pgtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stratadb/strata/internal/testutil"
)

// EnvDSN names the environment variable that points the tests at an already
// running server (the DSN of a superuser) instead of starting one.
const EnvDSN = "STRATA_POSTGRES"

// The server of this test binary: started once, by Main or by the first
// DSN, and read-only afterwards.
var state struct {
	once    sync.Once
	admin   string // superuser DSN of the server, when one is available
	missing string // a prerequisite is missing (skip, or fail under CI)
	broken  string // the server failed to start (always a failure)
	stop    func() error
	dir     string
}

var dbSeq atomic.Int64

// opTimeout bounds each round trip to the server.
const opTimeout = 30 * time.Second

// Main runs a package's tests with a Postgres server. Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// It starts one server for the whole test binary, runs the tests, stops the
// server and exits. When the binaries are missing the tests still run, and
// those that call DSN skip with the reason (fail under STRATA_CI=1).
func Main(m *testing.M) {
	if !flag.Parsed() {
		flag.Parse() // for testing.Verbose
	}
	ensure()
	code := m.Run()
	if state.stop != nil {
		if err := state.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// ensure starts the server once.
func ensure() {
	state.once.Do(func() {
		if dsn := os.Getenv(EnvDSN); dsn != "" {
			state.admin = dsn
			return
		}
		err := start()
		var me missingError
		switch {
		case errors.As(err, &me):
			state.missing = err.Error()
		case err != nil:
			state.broken = err.Error()
		}
	})
}

type missingError struct{ msg string }

func (e missingError) Error() string { return e.msg }

// binDir finds the directory holding initdb, pg_ctl and postgres: PATH
// first, then the newest /usr/lib/postgresql/<version>/bin.
func binDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", missingError{"pgtest: initdb and pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin: tests that need Postgres need it (apt-get install postgresql)"}
}

// runAs returns the credential the server must run under: none for a
// normal user; the "postgres" system user for root, which initdb refuses.
func runAs() (*syscall.Credential, error) {
	if os.Getuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, missingError{"pgtest: running as root, and initdb refuses root: need the \"postgres\" system user (the postgresql package creates it): " + err.Error()}
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgtest: user postgres has uid %q gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// start runs initdb and pg_ctl start in a new temporary directory, and
// leaves a watchdog that stops the server once this process has exited.
func start() error {
	bin, err := binDir()
	if err != nil {
		return err
	}
	cred, err := runAs()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "strata-pg-")
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	state.dir = dir
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("pgtest: chown %s to postgres: %w", dir, err)
		}
	}
	data := filepath.Join(dir, "data")
	logFile := filepath.Join(dir, "postgres.log")
	command := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		return cmd
	}
	t0 := time.Now()
	if out, err := command("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb -D %s: %w\n%s", data, err, out)
	}
	// The port is chosen free and may be taken before the server binds it:
	// retry on another.
	var port int
	for attempt := 0; ; attempt++ {
		port, err = freePort()
		if err != nil {
			return err
		}
		opts := fmt.Sprintf("-p %d -h 127.0.0.1 -k %s -F -c max_connections=200 -c shared_buffers=64MB", port, dir)
		out, err := command("pg_ctl", "-D", data, "-l", logFile, "-o", opts, "-w", "-t", "120", "start").CombinedOutput()
		if err == nil {
			break
		}
		logged, _ := os.ReadFile(logFile)
		if attempt < 3 && strings.Contains(string(logged), "could not bind") {
			continue
		}
		return fmt.Errorf("pgtest: pg_ctl start: %w\n%s\n%s", err, out, tail(string(logged), 30))
	}
	stopCmd := func(mode string) *exec.Cmd { return command("pg_ctl", "-D", data, "-m", mode, "-w", "stop") }
	// The watchdog stops the server when the test binary is gone, however
	// it ended. It checks /proc rather than kill -0, which fails across
	// users.
	// It waits for the process only: racing the normal stop (which
	// removes postmaster.pid) would delete the directory under it.
	wd := exec.Command("sh", "-c", fmt.Sprintf(
		`while [ -d /proc/%d ]; do sleep 1; done; [ -f %s/postmaster.pid ] && %s -D %s -m immediate stop >/dev/null 2>&1; rm -rf %s`,
		os.Getpid(), data, filepath.Join(bin, "pg_ctl"), data, dir))
	if cred != nil {
		wd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	} else {
		wd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	if err := wd.Start(); err != nil {
		_ = stopCmd("immediate").Run()
		return fmt.Errorf("pgtest: start watchdog: %w", err)
	}
	go func() { _ = wd.Wait() }()
	state.admin = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	state.stop = func() error {
		if out, err := stopCmd("fast").CombinedOutput(); err != nil {
			return fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out)
		}
		return os.RemoveAll(dir)
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "pgtest: postgres on 127.0.0.1:%d ready in %v (files in %s)\n", port, time.Since(t0).Round(time.Millisecond), dir)
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// AdminDSN returns the DSN of the server's superuser on its "postgres"
// database, starting the server if needed. Without a server it skips t
// (fails under STRATA_CI=1, or when the server failed to start).
func AdminDSN(t testing.TB) string {
	t.Helper()
	ensure()
	switch {
	case state.admin != "":
		return state.admin
	case state.missing != "":
		testutil.SkipOrFail(t, state.missing)
	default:
		t.Fatal(state.broken)
	}
	return ""
}

// DSN creates a new, empty database for t and returns its DSN. The
// database is dropped when t ends (its connections are terminated).
func DSN(t testing.TB) string {
	t.Helper()
	admin := AdminDSN(t)
	name := fmt.Sprintf("strata_test_%d_%d", os.Getpid(), dbSeq.Add(1))
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return err
		}
		defer c.Close(context.Background())
		_, err = c.Exec(ctx, sql)
		return err
	}
	if err := exec(`CREATE DATABASE "` + name + `"`); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

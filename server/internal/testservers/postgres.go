package testservers

// PostgreSQL from the Debian package binaries. A missing binary fails the
// test with how to install it: a store test that skips proves nothing.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgStartTimeout bounds start-up (crash recovery after a kill included).
const pgStartTimeout = 30 * time.Second

const pgMissing = "postgresql not installed: run ./scripts/test or apt-get install postgresql"

// PostgresServer is a throwaway PostgreSQL cluster owned by one test: data,
// socket and log live in a temp dir removed at cleanup. There is no
// package-level server: a top-level test starts one and its subtests share
// it, each with a fresh database from NewDatabase, so the start-up cost is
// paid once per top-level test without global state. Stop and Restart are
// for the test goroutine only.
type PostgresServer struct {
	t      testing.TB
	bin    string              // /usr/lib/postgresql/<major>/bin
	dir    string              // owned by cred when running as root
	cred   *syscall.Credential // nil unless root: postgres refuses to run as root
	port   int
	cmd    *exec.Cmd
	exited chan struct{}
	dbs    atomic.Int64
}

// Postgres starts a server for t and returns the URL of its empty
// `relayapi` database.
func Postgres(t testing.TB) string {
	t.Helper()
	return StartPostgres(t).URL("relayapi")
}

// StartPostgres initialises and starts a cluster on a free loopback port,
// creates the `relayapi` database and stops everything when t ends.
func StartPostgres(t testing.TB) *PostgresServer {
	t.Helper()
	s := &PostgresServer{t: t, bin: pgBinDir(t), cred: pgCredential(t)}
	s.dir = ownedTempDir(t, s.cred)
	t.Cleanup(s.stop)
	s.run(t, "initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "--no-sync",
		"--no-instructions", "-E", "UTF8", "--locale=C")
	var err error
	// A free port can be taken between probing and binding: try a few.
	for range 3 {
		s.port = pgFreePort(t)
		if err = s.launch(); err == nil {
			s.exec(t, "CREATE DATABASE relayapi")
			return s
		}
	}
	t.Fatalf("start postgres: %v", err)
	return nil
}

// URL is the connection URL of database db on this server.
func (s *PostgresServer) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// NewDatabase creates an empty database (t_1, t_2, ...) and returns its
// URL: a fresh database per test isolates tests at a fraction of the cost
// of a fresh server.
func (s *PostgresServer) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t_%d", s.dbs.Add(1))
	s.exec(t, "CREATE DATABASE "+name)
	return s.URL(name)
}

// Stop shuts the server down (fast mode: clients are disconnected,
// committed data is kept) and waits for it to exit.
func (s *PostgresServer) Stop() { s.stop() }

// Restart starts a stopped server again on the same port and data.
func (s *PostgresServer) Restart() {
	s.t.Helper()
	s.stop()
	if err := s.launch(); err != nil {
		s.t.Fatalf("restart postgres: %v", err)
	}
}

func (s *PostgresServer) data() string { return filepath.Join(s.dir, "data") }

// launch starts postgres in the foreground (a child we can signal and
// wait for) and waits until it accepts connections. fsync, synchronous
// commit and full-page writes are off: test data need not survive a power
// cut, and this makes the suites several times faster.
func (s *PostgresServer) launch() error {
	log, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := s.command("postgres", "-D", s.data(), "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return err
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) {
		_ = cmd.Wait()
		log.Close()
		close(exited)
	}(s.exited)
	if err := s.waitReady(pgStartTimeout); err != nil {
		s.stop()
		return fmt.Errorf("%w\n%s", err, s.logTail())
	}
	return nil
}

func (s *PostgresServer) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-s.exited:
			return errors.New("postgres exited during start-up")
		default:
		}
		err := ping(s.URL("postgres"))
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after %v: %w", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ping(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// stop sends SIGINT (PostgreSQL's fast shutdown) and waits; a server stuck
// for 30s is killed so a test run never hangs on it.
func (s *PostgresServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

func (s *PostgresServer) exec(t testing.TB, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		t.Fatalf("connect to test postgres: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// command runs a PostgreSQL binary as the postgres user when we are root.
func (s *PostgresServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir // the caller's directory may not be readable by postgres
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

func (s *PostgresServer) run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := s.command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

func (s *PostgresServer) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// pgBinDir finds the newest installed major version of the Debian layout.
func pgBinDir(t testing.TB) string {
	t.Helper()
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(found) == 0 {
		t.Fatal(pgMissing)
	}
	major := func(p string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return n
	}
	sort.Slice(found, func(i, j int) bool { return major(found[i]) > major(found[j]) })
	return filepath.Dir(found[0])
}

// pgCredential is the postgres system user (created by the Debian
// package) when running as root, which PostgreSQL refuses.
func pgCredential(t testing.TB) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("running as root needs the postgres user (%v): %s", err, pgMissing)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
}

// ownedTempDir is made under the system temp dir rather than t.TempDir,
// whose 0700 parent the postgres user could not enter.
func ownedTempDir(t testing.TB, cred *syscall.Credential) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "relayapi-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func pgFreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

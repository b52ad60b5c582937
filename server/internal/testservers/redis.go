// Package testservers starts real servers (from Debian packages) on
// loopback ports for tests, so store tests run against the real thing
// rather than a fake.
package testservers

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// redisStartTimeout bounds how long a server may take to answer PING.
const redisStartTimeout = 10 * time.Second

// RedisServer is a redis-server child process owned by one test.
type RedisServer struct {
	t     testing.TB
	bin   string
	dir   string
	port  int
	extra []string
	cmd   *exec.Cmd
	done  chan struct{}
}

// Redis starts a redis-server for t and returns its URL
// (redis://127.0.0.1:PORT/0). It is killed when t ends.
func Redis(t testing.TB) string {
	t.Helper()
	return StartRedis(t).URL()
}

// StartRedis starts a redis-server for t with optional extra arguments
// (e.g. "--cluster-enabled", "yes") and returns a handle that can stop and
// restart it on the same port. Data survives Stop/Restart (Stop snapshots
// it first), as with a real server that persists; the tempdir holds it.
func StartRedis(t testing.TB, extra ...string) *RedisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		// Never skip: a silently skipped store suite proves nothing.
		t.Fatal("redis-server not installed: run ./scripts/test or apt-get install redis-server")
	}
	s := &RedisServer{t: t, bin: bin, dir: t.TempDir(), extra: extra}
	t.Cleanup(s.kill)
	// A freshly probed port can be taken before redis binds it: try again.
	var lastErr error
	for range 3 {
		if s.port, lastErr = freePort(); lastErr != nil {
			continue
		}
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("start redis-server: %v", lastErr)
	return nil
}

// URL is the server's address as a go-redis URL, database 0.
func (s *RedisServer) URL() string { return fmt.Sprintf("redis://%s/0", s.Addr()) }

// Addr is host:port.
func (s *RedisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Stop snapshots the data and stops the server; clients then get
// connection refused until Restart.
func (s *RedisServer) Stop() {
	s.t.Helper()
	if s.cmd == nil {
		return
	}
	if _, err := redisCommand(s.Addr(), "SAVE"); err != nil {
		s.t.Logf("redis SAVE before stop: %v", err)
	}
	s.kill()
}

// Restart starts the server again on the same port with the saved data.
func (s *RedisServer) Restart() {
	s.t.Helper()
	s.kill()
	if err := s.start(); err != nil {
		s.t.Fatalf("restart redis-server: %v", err)
	}
}

func (s *RedisServer) start() error {
	args := append([]string{
		"--save", "", "--appendonly", "no", "--bind", "127.0.0.1",
		"--port", strconv.Itoa(s.port), "--dir", s.dir,
		"--logfile", "redis.log", "--daemonize", "no",
	}, s.extra...)
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	if err := s.waitReady(); err != nil {
		s.kill()
		return fmt.Errorf("%w; log: %s", err, s.logTail())
	}
	return nil
}

// waitReady polls PING until the server answers, exits, or time runs out.
func (s *RedisServer) waitReady() error {
	deadline := time.Now().Add(redisStartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("redis-server exited on port %d", s.port)
		default:
		}
		if reply, err := redisCommand(s.Addr(), "PING"); err == nil && reply == "+PONG" {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server did not answer PING within %v", redisStartTimeout)
}

func (s *RedisServer) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

func (s *RedisServer) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// redisCommand sends one inline command and returns the first reply line; it
// speaks raw RESP so the helper needs no client library.
func redisCommand(addr, cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

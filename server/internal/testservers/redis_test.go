package testservers

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestRedisAnswersAndCleansUp(t *testing.T) {
	url := Redis(t)
	if !strings.HasPrefix(url, "redis://127.0.0.1:") || !strings.HasSuffix(url, "/0") {
		t.Fatalf("url %q", url)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "redis://"), "/0")
	if reply, err := redisCommand(addr, "PING"); err != nil || reply != "+PONG" {
		t.Fatalf("PING: %q %v", reply, err)
	}
}

func TestRedisStopAndRestartKeepPortAndData(t *testing.T) {
	s := StartRedis(t)
	if reply, err := redisCommand(s.Addr(), "SET k v"); err != nil || reply != "+OK" {
		t.Fatalf("SET: %q %v", reply, err)
	}
	s.Stop()
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("stopped server still accepts connections")
	}
	s.Restart()
	// A bulk reply: "$1" then "v"; the first line proves the key survived.
	if reply, err := redisCommand(s.Addr(), "GET k"); err != nil || reply != "$1" {
		t.Fatalf("GET after restart: %q %v", reply, err)
	}
}

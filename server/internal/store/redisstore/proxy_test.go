package redisstore_test

import (
	"net"
	"sync"
	"testing"
)

// silencer is a TCP proxy to a Redis that can go silent at once: after
// silence, it keeps every connection open (and accepts new ones) but
// forwards nothing, like a hung server or a network black hole.
type silencer struct {
	l      net.Listener
	target string
	quiet  chan struct{}
	once   sync.Once

	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func newSilencer(t *testing.T, target string) *silencer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silencer{l: l, target: target, quiet: make(chan struct{})}
	go s.accept()
	t.Cleanup(s.close)
	return s
}

func (s *silencer) URL() string { return "redis://" + s.l.Addr().String() + "/0" }

func (s *silencer) silence() { s.once.Do(func() { close(s.quiet) }) }

func (s *silencer) accept() {
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.hold(c)
		select {
		case <-s.quiet:
			continue // never answers
		default:
		}
		up, err := net.Dial("tcp", s.target)
		if err != nil {
			c.Close()
			continue
		}
		s.hold(up)
		go s.forward(up, c)
		go s.forward(c, up)
	}
}

func (s *silencer) hold(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return
	}
	s.conns = append(s.conns, c)
}

// forward copies src to dst until silenced, then swallows what src sends.
func (s *silencer) forward(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		select {
		case <-s.quiet:
			continue
		default:
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (s *silencer) close() {
	s.l.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range s.conns {
		c.Close()
	}
}

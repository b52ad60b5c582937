package relay

import (
	"context"
	"sync"
	"time"

	"github.com/relayapi/relayapi/server/internal/realtime"
	"github.com/relayapi/relayapi/server/internal/store"
)

// revocations ends live realtime sessions whose token is revoked, on any
// relay sharing the store. One loop checks every token with an open
// session in one store query per Realtime.RevocationCheck (a read per
// session instead cost 16% of a core for 2,000 idle sessions on SQLite);
// it runs only while sessions are open.
type revocations struct {
	h        *Handler
	mu       sync.Mutex
	sessions map[string]map[chan<- realtime.End]struct{} // by jti
	running  bool
}

// watch registers a session's stop channel (buffered) under its token;
// the returned func unregisters it.
func (rv *revocations) watch(jti string, stop chan<- realtime.End) (unwatch func()) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.sessions == nil {
		rv.sessions = map[string]map[chan<- realtime.End]struct{}{}
	}
	if rv.sessions[jti] == nil {
		rv.sessions[jti] = map[chan<- realtime.End]struct{}{}
	}
	rv.sessions[jti][stop] = struct{}{}
	if !rv.running {
		rv.running = true
		go rv.loop()
	}
	return func() {
		rv.mu.Lock()
		defer rv.mu.Unlock()
		delete(rv.sessions[jti], stop)
		if len(rv.sessions[jti]) == 0 {
			delete(rv.sessions, jti)
		}
	}
}

// loop checks until no session is left (or the relay shuts down).
func (rv *revocations) loop() {
	every := rv.h.opts.Realtime.RevocationCheck
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-rv.h.closing.Done():
			rv.stopRunning()
			return
		case <-t.C:
		}
		jtis := rv.tokens()
		if jtis == nil {
			return // running was cleared under the lock
		}
		ctx, cancel := context.WithTimeout(rv.h.closing, every)
		revoked := rv.h.revokedAmong(ctx, jtis)
		cancel()
		rv.end(revoked)
	}
}

func (rv *revocations) stopRunning() {
	rv.mu.Lock()
	rv.running = false
	rv.mu.Unlock()
}

// tokens lists the watched jtis; with none it clears running and returns
// nil, so the next watch starts a new loop.
func (rv *revocations) tokens() []string {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if len(rv.sessions) == 0 {
		rv.running = false
		return nil
	}
	jtis := make([]string, 0, len(rv.sessions))
	for j := range rv.sessions {
		jtis = append(jtis, j)
	}
	return jtis
}

func (rv *revocations) end(revoked []string) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	for _, j := range revoked {
		for stop := range rv.sessions[j] {
			select {
			case stop <- realtime.End{Code: realtime.CodeRevoked, Reason: "token_revoked: the token has been revoked", By: "relay"}:
			default: // already told
			}
		}
	}
}

// revokedAmong asks the store which of jtis are revoked, in batches; a
// store without the batch query is asked token by token. A store error
// ends nothing (the session's own lease and the next check still hold).
func (h *Handler) revokedAmong(ctx context.Context, jtis []string) []string {
	var out []string
	if lister, ok := store.RevokedOf(h.opts.Store); ok {
		for start := 0; start < len(jtis); start += store.MaxRevokedBatch {
			batch := jtis[start:min(start+store.MaxRevokedBatch, len(jtis))]
			got, err := lister.Revoked(ctx, batch)
			if err != nil {
				h.log.Warn("realtime: revocation check failed", "err", err)
				return out
			}
			out = append(out, got...)
		}
		return out
	}
	for _, j := range jtis {
		if u, ok, err := h.opts.Store.Usage(ctx, j); err == nil && ok && u.Revoked {
			out = append(out, j)
		}
	}
	return out
}

package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pruneEvery is how often expired token state and old log lines go. A
// store prunes in small steps between its own writes and may stop at the
// minute's timeout; the next run carries on, so runs come often.
const pruneEvery = 10 * time.Minute

// prune enforces request_log.retention until ctx ends.
func (r *Relay) prune(ctx context.Context) {
	ticker := time.NewTicker(pruneEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			before := time.Now().Add(-r.cfg.RequestLog.Retention.D())
			pctx, cancel := context.WithTimeout(ctx, time.Minute)
			if err := r.store.Prune(pctx, before); err != nil {
				r.log.Warn("pruning old usage state failed", "err", err)
			}
			cancel()
		}
	}
}

// serveMetrics serves /metrics on its own address when metrics.listen is
// set, so it can stay off the public interface — and with it the operator's
// dashboard and admin API, when an admin key is set.
func (r *Relay) serveMetrics(ctx context.Context) error {
	if r.metrics == nil || r.cfg.Metrics.Listen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", r.cfg.Metrics.Listen)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", r.metrics.Handler())
	if r.ops != nil {
		mux.Handle("/admin", r.ops)
		mux.Handle("/admin/", r.ops)
	}
	if r.cfg.Metrics.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Error("metrics listener stopped", "err", err)
		}
	}()
	r.log.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}

package admin

import "time"

// WithNow sets the clock of the admin API (the defaults of /admin/stats).
func WithNow(now func() time.Time) Option {
	return func(h *Handler) { h.now = now }
}

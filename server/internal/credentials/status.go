package credentials

import "time"

// KeyStatus describes one key for admin and health output, without its
// value: Last4 is all of a key that ever leaves the pool.
type KeyStatus struct {
	ID           string    `json:"id"`
	Last4        string    `json:"last4"`
	Benched      bool      `json:"benched"`
	BenchedUntil time.Time `json:"benched_until,omitzero"`
	Reason       string    `json:"reason,omitempty"`
	// LastUsed is when the key was last handed out for a request.
	LastUsed time.Time `json:"last_used,omitzero"`
	// LastError is the key's last upstream failure (see Failed), at
	// LastErrorAt.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// minLast4 is the shortest key whose last 4 characters are shown: of a
// shorter one they would give away too much.
const minLast4 = 12

// Last4 is the last 4 characters of key, or "" for a key shorter than
// minLast4 characters.
func Last4(key string) string {
	r := []rune(key)
	if len(r) < minLast4 {
		return ""
	}
	return string(r[len(r)-4:])
}

// Status reports every key's state at now, in pool order.
func (p *Pool) Status(now time.Time) []KeyStatus {
	if p.Len() == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]KeyStatus, len(p.keys))
	for i, b := range p.bench {
		s := p.seen[i]
		out[i] = KeyStatus{ID: Key{n: i + 1}.ID(), Last4: Last4(p.keys[i]),
			LastUsed: s.used, LastError: s.failure, LastErrorAt: s.failed}
		if b.until.After(now) {
			out[i].Benched, out[i].BenchedUntil, out[i].Reason = true, b.until, b.reason
		}
	}
	return out
}

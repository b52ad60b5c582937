package credentials

import "time"

// KeyStatus describes one key for admin and health output, without its value.
type KeyStatus struct {
	ID           string    `json:"id"`
	Benched      bool      `json:"benched"`
	BenchedUntil time.Time `json:"benched_until,omitzero"`
	Reason       string    `json:"reason,omitempty"`
}

// Status reports every key's bench state at now, in pool order.
func (p *Pool) Status(now time.Time) []KeyStatus {
	if p.Len() == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]KeyStatus, len(p.keys))
	for i, b := range p.bench {
		out[i] = KeyStatus{ID: Key{n: i + 1}.ID()}
		if b.until.After(now) {
			out[i].Benched, out[i].BenchedUntil, out[i].Reason = true, b.until, b.reason
		}
	}
	return out
}

package admin

import (
	"net/http"
	"time"

	"github.com/relayapi/relayapi/server/internal/credentials"
)

// Provider is one configured upstream with the relay-held keys of it
// (none when tokens carry their own).
type Provider struct {
	Name    string
	BaseURL string
	Keys    []credentials.KeyStatus
}

// ProviderJSON is one provider in GET /admin/providers (schema Provider in
// docs/openapi.yaml).
type ProviderJSON struct {
	Name    string    `json:"name"`
	BaseURL string    `json:"base_url"`
	Keys    []KeyJSON `json:"keys"`
}

// KeyJSON is one relay-held key: its id and last 4 characters, never
// more of it, with its state. Unknown times and empty strings are null.
type KeyJSON struct {
	ID           string     `json:"id"`
	Last4        string     `json:"last4"`
	Benched      bool       `json:"benched"`
	BenchedUntil *time.Time `json:"benched_until"`
	Reason       *string    `json:"reason"`
	LastError    *string    `json:"last_error"`
	LastErrorAt  *time.Time `json:"last_error_at"`
	LastUsed     *time.Time `json:"last_used"`
}

// NewKeyJSON converts a key's status.
func NewKeyJSON(k credentials.KeyStatus) KeyJSON {
	return KeyJSON{
		ID: k.ID, Last4: k.Last4, Benched: k.Benched, BenchedUntil: known(k.BenchedUntil), Reason: nonEmpty(k.Reason),
		LastError: nonEmpty(k.LastError), LastErrorAt: known(k.LastErrorAt), LastUsed: known(k.LastUsed),
	}
}

func (c call) listProviders() {
	data := []ProviderJSON{}
	for _, p := range c.h.providers(c.h.now()) {
		keys := make([]KeyJSON, 0, len(p.Keys))
		for _, k := range p.Keys {
			keys = append(keys, NewKeyJSON(k))
		}
		data = append(data, ProviderJSON{Name: p.Name, BaseURL: p.BaseURL, Keys: keys})
	}
	writeJSON(c.w, http.StatusOK, struct {
		Data []ProviderJSON `json:"data"`
	}{data})
}

package server

import (
	"time"

	"github.com/relayapi/relayapi/server/internal/admin"
	"github.com/relayapi/relayapi/server/internal/credentials"
	"github.com/relayapi/relayapi/server/internal/provider"
)

// providerList reports every provider a token may name, with the state
// of its relay-held keys, for GET /admin/providers. The base URL is the
// registry's origin and prefix: no user info or query of the configured
// URL reaches the answer.
func providerList(reg *provider.Registry, pools map[string]*credentials.Pool) func(now time.Time) []admin.Provider {
	names := reg.Names()
	return func(now time.Time) []admin.Provider {
		out := make([]admin.Provider, 0, len(names))
		for _, name := range names {
			p, _ := reg.Lookup(name)
			out = append(out, admin.Provider{Name: name, BaseURL: p.Origin.String() + p.Prefix, Keys: pools[name].Status(now)})
		}
		return out
	}
}

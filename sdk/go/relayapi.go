// Package relayapi mints RelayAPI tokens offline from a `.rai` key file and
// builds the relay base URLs that vendor SDKs (openai-go, anthropic, genai)
// take in place of the provider's address, so a browser or app can call an
// AI API without ever holding the API key.
//
//	relay, err := relayapi.Load("default.rai")
//	tok, err := relay.CreateToken(relayapi.TokenRequest{Provider: "openai", APIKey: key, MaxCalls: 10, ExpiresIn: time.Hour})
//	baseURL, err := relay.BaseURL(tok.Value, relayapi.OpenAI) // hand this to the browser
//
// A Client also reads the relay's admin API (Usage, Revoke, Tokens,
// Requests) when it has the admin key. The token format is
// docs/token-format.md; the token and key-file code lives in the token and
// rai packages of this module, which the relay itself uses.
package relayapi

import (
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
)

// Client mints tokens with one key file and talks to one relay. It is safe
// for concurrent use.
type Client struct {
	file     *rai.File
	key      *token.MintKey
	relayURL string
	adminKey string
	http     *http.Client
	now      func() time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithRelayURL sets the relay's address (scheme, host, port and base path)
// instead of the key file's server section, e.g. "https://relay.example.com".
func WithRelayURL(url string) Option {
	return func(c *Client) { c.relayURL = strings.TrimRight(url, "/") }
}

// WithAdminKey sets the relay's admin key for Usage, Revoke, Tokens and
// Requests (default: $RELAYAPI_ADMIN_KEY).
func WithAdminKey(key string) Option { return func(c *Client) { c.adminKey = key } }

// WithHTTPClient sets the client of admin calls (default: a client with a
// 30-second timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithWarnings receives the harmless problems found in the key file, such
// as the ignored 1.x field aes_iv_seed (default: they are dropped; Warnings
// lists them).
func WithWarnings(f func(string)) Option {
	return func(c *Client) {
		for _, w := range c.file.Warnings {
			f(w)
		}
	}
}

// withClock pins the time tokens are minted at (tests).
func withClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// Load reads a `.rai` key file: the aes file both sides share, or the ecc
// backend file (`relayapi keygen --out`).
func Load(path string, opts ...Option) (*Client, error) {
	f, err := rai.Load(path)
	if err != nil {
		return nil, configError(err)
	}
	return newClient(f, opts)
}

// Parse reads the content of a `.rai` key file.
func Parse(data []byte, opts ...Option) (*Client, error) {
	f, err := rai.Parse(data)
	if err != nil {
		return nil, configError(err)
	}
	return newClient(f, opts)
}

// FromEnv reads the key file named by $RELAYAPI_RAI: a path, or the JSON
// itself (starting with "{"), as secret stores hand it over.
func FromEnv(opts ...Option) (*Client, error) {
	v := strings.TrimSpace(os.Getenv("RELAYAPI_RAI"))
	switch {
	case v == "":
		return nil, &Error{Code: CodeInvalidConfig, Message: "RELAYAPI_RAI is not set (a .rai file path or its JSON)"}
	case strings.HasPrefix(v, "{"):
		return Parse([]byte(v), opts...)
	}
	return Load(v, opts...)
}

func newClient(f *rai.File, opts []Option) (*Client, error) {
	key, err := f.MintKey()
	if err != nil {
		return nil, configError(err)
	}
	c := &Client{
		file: f, key: key, relayURL: f.Server.BaseURL(),
		adminKey: os.Getenv("RELAYAPI_ADMIN_KEY"),
		http:     &http.Client{Timeout: 30 * time.Second},
		now:      time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Method is the key file's method: "aes" or "ecc".
func (c *Client) Method() string { return string(c.key.Method()) }

// KeyID is the `kid` tokens carry, which selects the key on the relay.
func (c *Client) KeyID() string { return c.key.KeyID() }

// RelayURL is the relay's root: scheme, host, port and base path.
func (c *Client) RelayURL() string { return c.relayURL }

// Warnings lists the harmless problems found in the key file.
func (c *Client) Warnings() []string { return append([]string(nil), c.file.Warnings...) }

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// adminTimeout bounds one call of the admin API.
const adminTimeout = 30 * time.Second

// maxAdminBody bounds what the CLI reads from the relay.
const maxAdminBody = 16 << 20

// adminClient calls the relay's admin API (docs/openapi.yaml).
type adminClient struct {
	base string // relay URL with its base path, no trailing slash
	key  string
	http *http.Client
}

func newAdminClient(relay, key string) (*adminClient, error) {
	u, err := url.Parse(relay)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, usagef("relay URL must be http(s)://host[:port][/base_path]")
	}
	base := strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")
	return &adminClient{base: base, key: key, http: &http.Client{Timeout: adminTimeout}}, nil
}

// relayError is an error answer of the relay, in the shape of DESIGN.md §5.
type relayError struct {
	Status  int
	Code    string
	Message string
}

func (e *relayError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("relay answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("relay answered %d %s: %s", e.Status, e.Code, e.Message)
}

// call sends one request and returns the JSON body of a 2xx answer.
func (c *adminClient) call(ctx context.Context, method, path string, query url.Values) (json.RawMessage, error) {
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the relay: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminBody))
	if err != nil {
		return nil, fmt.Errorf("reading the relay's answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, parseRelayError(resp.StatusCode, body)
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("the relay answered %d with a body that is not JSON", resp.StatusCode)
	}
	return body, nil
}

// parseRelayError reads the relay's error shape; any other body is not
// shown (it may come from a proxy and hold anything).
func parseRelayError(status int, body []byte) error {
	var b struct {
		Error struct {
			Message string `json:"message"`
			Code    string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) != nil {
		return &relayError{Status: status}
	}
	return &relayError{Status: status, Code: b.Error.Code, Message: b.Error.Message}
}

func (c *adminClient) usage(ctx context.Context, jti string) (json.RawMessage, error) {
	return c.call(ctx, http.MethodGet, "/admin/tokens/"+url.PathEscape(jti), nil)
}

func (c *adminClient) revoke(ctx context.Context, jti string) (json.RawMessage, error) {
	return c.call(ctx, http.MethodPost, "/admin/tokens/"+url.PathEscape(jti)+"/revoke", nil)
}

// tokenQuery selects a page of GET /admin/tokens.
type tokenQuery struct {
	sub, cursor string
	limit       int
}

func (c *adminClient) tokens(ctx context.Context, q tokenQuery) (json.RawMessage, error) {
	v := url.Values{}
	setNonEmpty(v, "sub", q.sub)
	setNonEmpty(v, "cursor", q.cursor)
	if q.limit > 0 {
		v.Set("limit", fmt.Sprint(q.limit))
	}
	return c.call(ctx, http.MethodGet, "/admin/tokens", v)
}

func setNonEmpty(v url.Values, key, value string) {
	if value != "" {
		v.Set(key, value)
	}
}

// defaultRelayURL is where `relayapi serve` listens with no configuration.
const defaultRelayURL = "http://127.0.0.1:8840"

// adminFlags are the flags every admin command shares.
type adminFlags struct {
	relay, key string
}

func (f *adminFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.relay, "relay", "", "relay URL with its base path (default $RELAYAPI_URL or "+defaultRelayURL+")")
	// No default from the environment: --help would print the key.
	cmd.Flags().StringVar(&f.key, "admin-key", "", "admin key (default $RELAYAPI_ADMIN_KEY)")
}

// client resolves flags, then the environment, then the defaults.
func (f *adminFlags) client() (*adminClient, error) {
	key := firstNonEmpty(f.key, os.Getenv("RELAYAPI_ADMIN_KEY"))
	if key == "" {
		return nil, usagef("an admin key is required: --admin-key or RELAYAPI_ADMIN_KEY")
	}
	relay := firstNonEmpty(f.relay, os.Getenv("RELAYAPI_URL"), defaultRelayURL)
	return newAdminClient(relay, key)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// printJSON writes body indented, with a final newline.
func printJSON(w io.Writer, body json.RawMessage) error {
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, out.String())
	return err
}

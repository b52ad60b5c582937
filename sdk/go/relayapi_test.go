package relayapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
)

const vectorsDir = "../../testdata/vectors"

func newAES(t *testing.T, server rai.Server, opts ...Option) (*Client, *rai.File) {
	t.Helper()
	f, err := rai.GenerateAES(server)
	if err != nil {
		t.Fatal(err)
	}
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(data, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

func relayKeys(t *testing.T, f *rai.File) *token.Keyring {
	t.Helper()
	keys := token.NewKeyring()
	if err := f.AddTo(keys); err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestKeyFileVectorsLoadAsInEverySDK(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(vectorsDir, "keyfiles.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		KeyFiles []struct {
			File          string   `json:"file"`
			BaseURL       string   `json:"base_url"`
			OpenAIURL     string   `json:"openai_url"`
			Warnings      []string `json:"warnings"`
			ErrorContains []string `json:"error_contains"`
		} `json:"key_files"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, v := range doc.KeyFiles {
		t.Run(v.File, func(t *testing.T) {
			var warned []string
			c, err := Load(filepath.Join(vectorsDir, v.File), WithWarnings(func(w string) { warned = append(warned, w) }))
			if len(v.ErrorContains) > 0 {
				if CodeOf(err) != CodeInvalidConfig {
					t.Fatalf("err %v, want invalid_config", err)
				}
				for _, want := range v.ErrorContains {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%q lacks %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := c.BaseURL("TOKEN", OpenAI); c.RelayURL() != v.BaseURL || got != v.OpenAIURL {
				t.Errorf("relay %q openai %q, want %q %q", c.RelayURL(), got, v.BaseURL, v.OpenAIURL)
			}
			if len(warned) != len(v.Warnings) || (len(warned) > 0 && !strings.Contains(warned[0], v.Warnings[0])) {
				t.Errorf("warnings %q, want %q", warned, v.Warnings)
			}
		})
	}
}

func TestEveryValidVectorTokenDecodesWithItsKeyFile(t *testing.T) {
	// The SDK reads the vector key files and decodes their tokens with its
	// own Inspect (aes) — the token package's tests check every vector,
	// valid and invalid, in detail.
	data, err := os.ReadFile(filepath.Join(vectorsDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Now     int64             `json:"now"`
		Keys    map[string]string `json:"keys"`
		Vectors []struct {
			Name     string         `json:"name"`
			Method   string         `json:"method"`
			RelayKey string         `json:"relay_key"`
			Token    string         `json:"token"`
			Claims   map[string]any `json:"claims"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range doc.Vectors {
		if v.Method != "aes" || v.Claims == nil {
			continue
		}
		c, err := Load(filepath.Join(vectorsDir, doc.Keys[v.RelayKey]), withClock(func() time.Time { return time.Unix(doc.Now, 0) }))
		if err != nil {
			t.Fatal(err)
		}
		claims, err := c.Inspect(v.Token)
		if err != nil {
			if _, timed := v.Claims["nbf"]; timed {
				continue // a not-yet-valid vector: decodes, but not at `now`
			}
			t.Fatalf("%s: %v", v.Name, err)
		}
		if claims.ID != v.Claims["jti"] {
			t.Fatalf("%s: jti %q", v.Name, claims.ID)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("only %d aes vectors decoded", n)
	}
}

func TestATokenCarriesEveryClaimOfTheRequestToTheRelay(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, method := range []string{"aes", "ecc"} {
		t.Run(method, func(t *testing.T) {
			var c *Client
			var relayFile *rai.File
			if method == "aes" {
				c, relayFile = newAES(t, rai.Server{}, withClock(func() time.Time { return now }))
			} else {
				backend, relay, err := rai.GenerateECC(rai.Server{})
				if err != nil {
					t.Fatal(err)
				}
				data, _ := backend.Marshal()
				if c, err = Parse(data, withClock(func() time.Time { return now })); err != nil {
					t.Fatal(err)
				}
				relayFile = relay
			}
			tok, err := c.CreateToken(TokenRequest{
				Provider: "anthropic", APIKey: "sk-ant-0000000000000000", ExpiresIn: 2 * time.Hour,
				NotBefore: now.Add(time.Minute), Subject: "user-1", MaxCalls: 5, Models: []string{"claude-*"},
				Paths: []string{"/v1/messages"}, RPM: 60, Concurrency: 2, MaxTokens: 512, TokenBudget: 10_000,
				IPs: []string{"10.0.0.0/8"}, Origins: []string{"https://app.example.com"},
				ModelMap: map[string]string{"*": "claude-haiku-4-5"}, Meta: map[string]string{"plan": "free"},
				MaxSessionSeconds: 900, Extensions: map[string]any{"x_team": "a"},
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := relayKeys(t, relayFile).Open(tok.Value)
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject != "user-1" || got.MaxCalls != 5 || got.TokenBudget != 10_000 || got.ModelMap["*"] != "claude-haiku-4-5" ||
				got.ExpiresAt != now.Add(2*time.Hour).Unix() || got.NotBefore != now.Add(time.Minute).Unix() ||
				got.ID != tok.ID || len(tok.ID) != 22 || string(got.Extensions["x_team"]) != `"a"` ||
				got.MaxSessionSeconds != 900 {
				t.Fatalf("claims %+v", got)
			}
		})
	}
}

func TestARequestTheRelayWouldRefuseMintsNothing(t *testing.T) {
	c, _ := newAES(t, rai.Server{})
	for name, req := range map[string]TokenRequest{
		"bad origin":        {Origins: []string{"https://app.example.com/"}},
		"bad cidr":          {IPs: []string{"300.0.0.1"}},
		"bad provider":      {Provider: "Open AI"},
		"negative calls":    {MaxCalls: -1},
		"session too long":  {MaxSessionSeconds: 86_401},
		"negative session":  {MaxSessionSeconds: -1},
		"negative lifetime": {ExpiresIn: -time.Second},
		"extension name":    {Extensions: map[string]any{"team": "a"}},
		"huge":              {Meta: map[string]string{"a": strings.Repeat("x", 256), "b": strings.Repeat("y", 256)}, Models: manyModels()},
	} {
		_, err := c.CreateToken(req)
		var e *Error
		if !errors.As(err, &e) || (e.Code != CodeInvalidArgument && e.Code != CodeTokenTooLarge) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func manyModels() []string {
	m := make([]string, 100)
	for i := range m {
		m[i] = strings.Repeat("m", 200)
	}
	return m
}

func TestBaseURLsPerFlavorUnderTheKeyFilesBasePath(t *testing.T) {
	c, _ := newAES(t, rai.Server{Host: "relay.example.com", Port: 443, BasePath: "/ai"})
	for flavor, want := range map[Flavor]string{OpenAI: "https://relay.example.com/ai/t/TOK/v1", Anthropic: "https://relay.example.com/ai/t/TOK", Gemini: "https://relay.example.com/ai/t/TOK"} {
		if got, err := c.BaseURL("TOK", flavor); err != nil || got != want {
			t.Errorf("%s: %q %v", flavor, got, err)
		}
	}
	if _, err := c.BaseURL("TOK", "cohere"); CodeOf(err) != CodeInvalidArgument {
		t.Errorf("unknown flavor: %v", err)
	}
	c2, _ := newAES(t, rai.Server{}, WithRelayURL("http://10.0.0.5:9000/"))
	if got, _ := c2.BaseURL("TOK", OpenAI); got != "http://10.0.0.5:9000/t/TOK/v1" {
		t.Errorf("WithRelayURL: %q", got)
	}
}

func TestFromEnvTakesAPathOrTheJSON(t *testing.T) {
	_, f := newAES(t, rai.Server{})
	path := filepath.Join(t.TempDir(), "k.rai")
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	data, _ := f.Marshal()
	for _, v := range []string{path, string(data)} {
		t.Setenv("RELAYAPI_RAI", v)
		if _, err := FromEnv(); err != nil {
			t.Fatalf("%.20s…: %v", v, err)
		}
	}
	t.Setenv("RELAYAPI_RAI", "")
	if _, err := FromEnv(); CodeOf(err) != CodeInvalidConfig {
		t.Fatalf("unset: %v", err)
	}
}

func TestAnEccRelayFileCannotMint(t *testing.T) {
	_, relay, err := rai.GenerateECC(rai.Server{})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := relay.Marshal()
	if _, err := Parse(data); CodeOf(err) != CodeInvalidConfig || !strings.Contains(err.Error(), "relay key file") {
		t.Fatalf("err %v", err)
	}
}

// fakeRelay answers the admin routes the way the relay does
// (docs/openapi.yaml), and records what it was asked.
func fakeRelay(t *testing.T, adminKey string) (*httptest.Server, *[]string) {
	var seen []string
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			seen = append(seen, r.Method+" "+r.URL.RequestURI())
			if r.Header.Get("Authorization") != "Bearer "+adminKey {
				w.WriteHeader(401)
				_, _ = w.Write([]byte(`{"error":{"message":"A valid admin key is required.","type":"relayapi_error","code":"unauthorized"}}`))
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /admin/tokens/{jti}", auth(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("jti") == "unknown" {
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"error":{"message":"No such token.","type":"relayapi_error","code":"not_found"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"jti":"` + r.PathValue("jti") + `","sub":"u","calls":2,"max_calls":5,"refunds":0,"prompt_tokens":7,"completion_tokens":9,"tokens_used":16,"token_budget":null,"tokens_reserved":0,"first_seen":"2026-12-06T10:00:00Z","last_seen":null,"expires_at":null,"revoked":false,"last_error":null}`))
	}))
	mux.HandleFunc("POST /admin/tokens/{jti}/revoke", auth(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"jti":"` + r.PathValue("jti") + `","revoked":true}`))
	}))
	mux.HandleFunc("GET /admin/tokens", auth(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"data":[],"next_cursor":"c2"}`))
	}))
	mux.HandleFunc("GET /admin/requests", auth(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"data":[{"time":"2026-12-06T10:00:00Z","request_id":"r","jti":"j","sub":"","provider":"openai","model":"gpt-4o-mini","path":"/v1/chat/completions","status":200,"latency_ms":1.5,"ttfb_ms":1,"prompt_tokens":1,"completion_tokens":2,"estimated":false,"usage_source":"provider","bytes_in":10,"bytes_out":20,"error_code":null}],"next_cursor":null}`))
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &seen
}

func TestAdminCallsReadTheRelaysAnswersAndErrors(t *testing.T) {
	srv, seen := fakeRelay(t, "rak_good")
	c, _ := newAES(t, rai.Server{}, WithRelayURL(srv.URL), WithAdminKey("rak_good"))
	ctx := context.Background()
	u, err := c.Usage(ctx, "tok-1")
	if err != nil || u.Calls != 2 || *u.MaxCalls != 5 || u.TokenBudget != nil || u.FirstSeen == nil || u.LastSeen != nil {
		t.Fatalf("usage %+v %v", u, err)
	}
	if err := c.Revoke(ctx, "tok/1"); err != nil {
		t.Fatal(err)
	}
	page, err := c.Tokens(ctx, "alice", Page{Limit: 10, Cursor: "c1"})
	if err != nil || *page.NextCursor != "c2" {
		t.Fatalf("tokens %+v %v", page, err)
	}
	reqs, err := c.Requests(ctx, "j", Page{})
	if err != nil || len(reqs.Data) != 1 || reqs.Data[0].Model != "gpt-4o-mini" || *reqs.Data[0].UsageSource != "provider" {
		t.Fatalf("requests %+v %v", reqs, err)
	}
	want := []string{"GET /admin/tokens/tok-1", "POST /admin/tokens/tok%2F1/revoke", "GET /admin/tokens?cursor=c1&limit=10&sub=alice", "GET /admin/requests?jti=j"}
	if strings.Join(*seen, "\n") != strings.Join(want, "\n") {
		t.Fatalf("asked:\n%s", strings.Join(*seen, "\n"))
	}

	var e *Error
	if _, err := c.Usage(ctx, "unknown"); !errors.As(err, &e) || e.Code != "not_found" || e.Status != 404 {
		t.Fatalf("unknown: %v", err)
	}
	bad, _ := newAES(t, rai.Server{}, WithRelayURL(srv.URL), WithAdminKey("rak_bad"))
	if err := bad.Revoke(ctx, "x"); CodeOf(err) != "unauthorized" || strings.Contains(err.Error(), "rak_bad") {
		t.Fatalf("wrong key: %v", err)
	}
	t.Setenv("RELAYAPI_ADMIN_KEY", "")
	none, _ := newAES(t, rai.Server{}, WithRelayURL(srv.URL))
	if _, err := none.Usage(ctx, "x"); CodeOf(err) != CodeMissingAdminKey {
		t.Fatalf("no key: %v", err)
	}
	srv.Close()
	if _, err := c.Usage(ctx, "x"); CodeOf(err) != CodeNetworkError {
		t.Fatalf("closed relay: %v", err)
	}
}

// A backend's `go get` must not pull the relay's store drivers, metrics or
// CLI: the module needs go-jose and the standard library only.
func TestTheModuleDependsOnGoJoseAlone(t *testing.T) {
	out, err := exec.Command("go", "mod", "graph").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		from, to, _ := strings.Cut(line, " ")
		if from == "github.com/relayapi/relayapi/sdk/go" && !strings.HasPrefix(to, "github.com/go-jose/go-jose/v4@") && !strings.HasPrefix(to, "go@") && !strings.HasPrefix(to, "toolchain@") {
			t.Errorf("the SDK module requires %s", to)
		}
		for _, banned := range []string{"modernc.org", "redis", "pgx", "prometheus", "cobra", "openai"} {
			if strings.Contains(to, banned) {
				t.Errorf("%s is in the SDK's module graph", to)
			}
		}
	}
}

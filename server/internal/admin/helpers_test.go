package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/admin"
	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
)

const adminKey = "adm_test_0123456789abcdef0123456789"

var ctx = context.Background()

var base = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	store *sqlitestore.Store
	srv   *httptest.Server
	logs  *bytes.Buffer
}

// newFixture serves the admin API (with key) on a real SQLite store.
func newFixture(t *testing.T, key string, opts ...admin.Option) *fixture {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "relayapi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &bytes.Buffer{}
	h := admin.New(key, st, slog.New(slog.NewTextHandler(logs, nil)), opts...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r, r.URL.EscapedPath())
	}))
	t.Cleanup(srv.Close)
	return &fixture{t: t, store: st, srv: srv, logs: logs}
}

type response struct {
	status int
	body   []byte
}

func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not a JSON object (%d): %s", r.status, r.body)
	}
	return m
}

func (r response) code(t *testing.T) string {
	t.Helper()
	e, _ := r.object(t)["error"].(map[string]any)
	if e == nil || e["type"] != "relayapi_error" || e["message"] == "" {
		t.Fatalf("not a relay error (%d): %s", r.status, r.body)
	}
	return e["code"].(string)
}

// do calls the API with the admin key unless auth overrides it ("-" sends
// no Authorization header).
func (f *fixture) do(method, path string, auth ...string) response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	header := "Bearer " + adminKey
	if len(auth) > 0 {
		header = auth[0]
	}
	if header != "-" {
		req.Header.Set("Authorization", header)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, body}
}

func (f *fixture) get(path string) response { return f.do(http.MethodGet, path) }

// admit spends one call of jti in the store, as the relay would.
func (f *fixture) admit(jti, sub string, mut func(*store.Admission)) store.Grant {
	f.t.Helper()
	a := store.Admission{TokenID: jti, Subject: sub, ExpiresAt: base.Add(24 * time.Hour), Now: base, LeaseTTL: time.Minute}
	if mut != nil {
		mut(&a)
	}
	g, err := f.store.Admit(ctx, a)
	if err != nil || g.Decision != store.Admitted {
		f.t.Fatalf("admit %s: %v %+v", jti, err, g)
	}
	return g
}

func (f *fixture) settle(jti string, g store.Grant, prompt, completion int64, lastError string) {
	f.t.Helper()
	s := store.Settlement{TokenID: jti, LeaseID: g.LeaseID, Reserved: g.Reserved, PromptTokens: prompt,
		CompletionTokens: completion, LastError: lastError, Now: base.Add(time.Second)}
	if err := f.store.Settle(ctx, s); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) log(records ...store.Record) {
	f.t.Helper()
	if err := f.store.Log(ctx, records); err != nil {
		f.t.Fatal(err)
	}
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

func sorted(s string) string {
	ks := strings.Split(s, ",")
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

var (
	tokenFields   = sorted("jti,sub,calls,max_calls,refunds,prompt_tokens,completion_tokens,tokens_used,token_budget,tokens_reserved,first_seen,last_seen,expires_at,revoked,last_error")
	requestFields = sorted("time,request_id,jti,sub,provider,model,path,status,latency_ms,ttfb_ms,prompt_tokens,completion_tokens,estimated,usage_source,bytes_in,bytes_out,error_code")
)

// page decodes a listing and checks its envelope.
func page(t *testing.T, r response) (data []map[string]any, next string) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("listing: %d %s", r.status, r.body)
	}
	var p struct {
		Data []map[string]any `json:"data"`
		Next *string          `json:"next_cursor"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil || p.Data == nil || keys(r.object(t)) != "data,next_cursor" {
		t.Fatalf("page envelope: %v %s", err, r.body)
	}
	if p.Next != nil {
		if *p.Next == "" {
			t.Fatal(`next_cursor is "" instead of null`)
		}
		next = *p.Next
	}
	return p.Data, next
}

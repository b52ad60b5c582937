package cli

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/admin"
	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
)

const testAdminKey = "adm_cli_test_0123456789abcdef0123"

// adminRelay is the real admin handler on a real SQLite store, mounted
// under basePath like a relay with server.base_path.
type adminRelay struct {
	url   string
	store *sqlitestore.Store
	paths chan string
}

func newAdminRelay(t *testing.T, basePath string) *adminRelay {
	t.Helper()
	t.Setenv("RELAYAPI_ADMIN_KEY", "")
	t.Setenv("RELAYAPI_URL", "")
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "relayapi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := admin.New(testAdminKey, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a := &adminRelay{store: st, paths: make(chan string, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.paths <- r.URL.RequestURI()
		path, ok := strings.CutPrefix(r.URL.EscapedPath(), basePath)
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r, path)
	}))
	t.Cleanup(srv.Close)
	a.url = srv.URL + basePath
	return a
}

// seen records one call of jti for subject sub, as the relay would.
func (a *adminRelay) seen(t *testing.T, jti, sub string) {
	t.Helper()
	now := time.Now()
	g, err := a.store.Admit(context.Background(), store.Admission{TokenID: jti, Subject: sub, MaxCalls: 3,
		ExpiresAt: now.Add(time.Hour), Now: now, LeaseTTL: time.Minute})
	if err != nil || g.Decision != store.Admitted {
		t.Fatalf("admit: %v %+v", err, g)
	}
}

func jsonOut(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not JSON: %q", out)
	}
	return m
}

func TestUsagePrintsTheTokensJSON(t *testing.T) {
	a := newAdminRelay(t, "")
	a.seen(t, "tok-1", "user-1")
	code, out, stderr := run(t, "usage", "--relay", a.url, "--admin-key", testAdminKey, "tok-1")
	if code != 0 {
		t.Fatalf("%d %s", code, stderr)
	}
	u := jsonOut(t, out)
	if u["jti"] != "tok-1" || u["sub"] != "user-1" || u["calls"] != 1.0 || u["max_calls"] != 3.0 {
		t.Fatalf("usage %v", u)
	}
}

func TestRevokeRevokesTheTokenAndPrintsTheAnswer(t *testing.T) {
	a := newAdminRelay(t, "")
	code, out, stderr := run(t, "revoke", "--relay", a.url, "--admin-key", testAdminKey, "tok-2")
	if code != 0 {
		t.Fatalf("%d %s", code, stderr)
	}
	if r := jsonOut(t, out); r["jti"] != "tok-2" || r["revoked"] != true {
		t.Fatalf("revoke printed %v", r)
	}
	u, ok, err := a.store.Usage(context.Background(), "tok-2")
	if err != nil || !ok || !u.Revoked {
		t.Fatalf("store after revoke: %v %v %+v", err, ok, u)
	}
}

func TestTokensPassesSubLimitAndCursorAndPrintsThePage(t *testing.T) {
	a := newAdminRelay(t, "")
	for _, jti := range []string{"a-1", "a-2", "a-3"} {
		a.seen(t, jti, "alice")
	}
	a.seen(t, "b-1", "bob")
	code, out, stderr := run(t, "tokens", "--relay", a.url, "--admin-key", testAdminKey, "--sub", "alice", "--limit", "2")
	if code != 0 {
		t.Fatalf("%d %s", code, stderr)
	}
	first := jsonOut(t, out)
	next, _ := first["next_cursor"].(string)
	if len(first["data"].([]any)) != 2 || next == "" {
		t.Fatalf("first page %v", first)
	}
	_, out, _ = run(t, "tokens", "--relay", a.url, "--admin-key", testAdminKey, "--sub", "alice", "--limit", "2", "--cursor", next)
	second := jsonOut(t, out)
	data := second["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["jti"] != "a-3" || second["next_cursor"] != nil {
		t.Fatalf("second page %v", second)
	}
}

func TestAdminKeyAndRelayURLComeFromTheEnvironment(t *testing.T) {
	a := newAdminRelay(t, "/relay")
	a.seen(t, "tok-env", "")
	t.Setenv("RELAYAPI_ADMIN_KEY", testAdminKey)
	t.Setenv("RELAYAPI_URL", a.url+"/")
	code, out, stderr := run(t, "usage", "tok-env")
	if code != 0 || jsonOut(t, out)["jti"] != "tok-env" {
		t.Fatalf("%d %s %s", code, out, stderr)
	}
	if p := <-a.paths; p != "/relay/admin/tokens/tok-env" {
		t.Fatalf("requested %s", p)
	}
}

func TestFlagsOverrideTheEnvironment(t *testing.T) {
	a := newAdminRelay(t, "")
	t.Setenv("RELAYAPI_ADMIN_KEY", "adm_wrong")
	t.Setenv("RELAYAPI_URL", "http://127.0.0.1:1")
	if code, _, stderr := run(t, "tokens", "--relay", a.url, "--admin-key", testAdminKey); code != 0 {
		t.Fatalf("%d %s", code, stderr)
	}
}

func TestRelayErrorsExitOneWithTheCodeAndNeverTheKey(t *testing.T) {
	a := newAdminRelay(t, "")
	cases := []struct {
		args []string
		code string
	}{
		{[]string{"usage", "--relay", a.url, "--admin-key", testAdminKey + "-wrong", "tok"}, "unauthorized"},
		{[]string{"usage", "--relay", a.url, "--admin-key", testAdminKey, "nobody"}, "not_found"},
		{[]string{"tokens", "--relay", a.url, "--admin-key", testAdminKey, "--cursor", "!!!"}, "bad_request"},
	}
	for _, c := range cases {
		code, out, stderr := run(t, c.args...)
		if code != 1 || out != "" || !strings.Contains(stderr, c.code) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: %d %q %q", c.args[0:1], code, out, stderr)
		}
		if strings.Contains(stderr, testAdminKey[:12]) {
			t.Errorf("stderr shows the admin key: %q", stderr)
		}
	}
}

func TestUnreachableRelayFailsOnOneLine(t *testing.T) {
	t.Setenv("RELAYAPI_URL", "")
	code, _, stderr := run(t, "revoke", "--relay", "http://127.0.0.1:1", "--admin-key", testAdminKey, "tok")
	if code != 1 || !strings.Contains(stderr, "cannot reach the relay") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("%d %q", code, stderr)
	}
	if strings.Contains(stderr, testAdminKey[:12]) {
		t.Fatalf("stderr shows the admin key: %q", stderr)
	}
}

func TestNonRelayErrorBodiesAreNotShown(t *testing.T) {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html>secret upstream page</html>")
	}))
	defer proxy.Close()
	code, _, stderr := run(t, "tokens", "--relay", proxy.URL, "--admin-key", testAdminKey)
	if code != 1 || !strings.Contains(stderr, "502 Bad Gateway") || strings.Contains(stderr, "secret") {
		t.Fatalf("%d %q", code, stderr)
	}
}

func TestAdminCommandsUsageErrorsExitTwo(t *testing.T) {
	t.Setenv("RELAYAPI_ADMIN_KEY", "")
	t.Setenv("RELAYAPI_URL", "")
	for _, args := range [][]string{
		{"usage", "tok"},
		{"usage", "--admin-key", "k"},
		{"usage", "--admin-key", "k", "a", "b"},
		{"revoke", "--admin-key", "k"},
		{"tokens", "--admin-key", "k", "extra"},
		{"tokens", "--admin-key", "k", "--limit", "0"},
		{"tokens", "--admin-key", "k", "--limit", "1001"},
		{"tokens", "--admin-key", "k", "--limit", "x"},
		{"usage", "--relay", "ftp://relay", "--admin-key", "k", "tok"},
		{"usage", "--relay", "http://user:pw@relay", "--admin-key", "k", "tok"},
	} {
		if code, _, stderr := run(t, args...); code != 2 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: %d %q", args, code, stderr)
		}
	}
}

func TestHelpDoesNotShowTheAdminKeyFromTheEnvironment(t *testing.T) {
	t.Setenv("RELAYAPI_ADMIN_KEY", testAdminKey)
	_, out, _ := run(t, "usage", "--help")
	if strings.Contains(out, testAdminKey) || !strings.Contains(out, "RELAYAPI_ADMIN_KEY") {
		t.Fatalf("help: %s", out)
	}
}

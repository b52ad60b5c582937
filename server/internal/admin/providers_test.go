package admin_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/admin"
	"github.com/relayapi/relayapi/server/internal/credentials"
)

const (
	heldKey1 = "sk-proj-HELDKEYNUMBERONE-abcdefghij-wxyz"
	heldKey2 = "sk-proj-HELDKEYNUMBERTWO-abcdefghij-9Q7z"
)

var keyFields = sorted("id,last4,benched,benched_until,reason,last_error,last_error_at,last_used")

func TestProvidersListEveryProviderWithItsKeysLast4Only(t *testing.T) {
	pool := credentials.NewPool([]string{heldKey1, heldKey2})
	k1, _ := pool.Next(base)
	pool.Bench(k1, base.Add(10*time.Minute), "Unauthorized")
	pool.Failed(k1, base.Add(time.Second), "401 Unauthorized")
	list := func(now time.Time) []admin.Provider {
		return []admin.Provider{
			{Name: "anthropic", BaseURL: "https://api.anthropic.com"},
			{Name: "openai", BaseURL: "https://api.openai.com", Keys: pool.Status(now)},
		}
	}
	f := newFixture(t, adminKey, admin.WithProviders(list), admin.WithNow(func() time.Time { return base.Add(time.Minute) }))
	r := f.get("/admin/providers")
	if r.status != http.StatusOK || keys(r.object(t)) != "data" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var body struct {
		Data []struct {
			Name    string           `json:"name"`
			BaseURL string           `json:"base_url"`
			Keys    []map[string]any `json:"keys"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || len(body.Data) != 2 {
		t.Fatalf("%v %s", err, r.body)
	}
	anthropic, openai := body.Data[0], body.Data[1]
	if anthropic.Name != "anthropic" || anthropic.Keys == nil || len(anthropic.Keys) != 0 {
		t.Errorf("a provider without relay-held keys: %s", r.body)
	}
	if openai.Name != "openai" || openai.BaseURL != "https://api.openai.com" || len(openai.Keys) != 2 {
		t.Fatalf("openai %+v", openai)
	}
	want := []map[string]any{
		{"id": "key#1", "last4": "wxyz", "benched": true, "benched_until": "2026-11-25T21:10:00Z", "reason": "Unauthorized",
			"last_error": "401 Unauthorized", "last_error_at": "2026-11-25T21:00:01Z", "last_used": "2026-11-25T21:00:00Z"},
		{"id": "key#2", "last4": "9Q7z", "benched": false, "benched_until": nil, "reason": nil,
			"last_error": nil, "last_error_at": nil, "last_used": nil},
	}
	for i, k := range openai.Keys {
		if keys(k) != keyFields {
			t.Errorf("key fields %s", keys(k))
		}
		for name, v := range want[i] {
			if k[name] != v {
				t.Errorf("key %d %s = %v, want %v", i, name, k[name], v)
			}
		}
	}
	for _, key := range []string{heldKey1, heldKey2} {
		for _, part := range []string{key, key[:len(key)-4], "HELDKEYNUMBER"} {
			if strings.Contains(string(r.body), part) {
				t.Fatalf("the answer holds a key: %s", r.body)
			}
		}
	}
}

func TestProvidersWithoutAListAreEmpty(t *testing.T) {
	f := newFixture(t, adminKey)
	if r := f.get("/admin/providers"); r.status != http.StatusOK || string(r.body) != `{"data":[]}` {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

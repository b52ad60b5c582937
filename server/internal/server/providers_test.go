package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
)

// GET /admin/providers shows the relay-held keys of a provider by id and
// last 4 characters, with the 401 that benched one; the keys themselves
// appear nowhere, and every provider a token may name is listed.
func TestAdminProvidersReportRelayHeldKeysByLast4(t *testing.T) {
	const keyA, keyB = "sk-relay-held-key-aaaaaaaaaaaa", "sk-relay-held-key-bbbbbbbbbbbb"
	t.Setenv("TEST_KEY_A", keyA)
	t.Setenv("TEST_KEY_B", keyB)
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("Authorization"), "aaaa") {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"bad key"}}`)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	s := newStack(t, upstream, func(c *config.Config) {
		p := c.Providers["mock"]
		p.APIKeys = []config.KeyRef{{Env: "TEST_KEY_A"}, {Env: "TEST_KEY_B"}}
		c.Providers["mock"] = p
	})
	tok := s.token(func(c *token.Claims) { c.APIKey = "" })
	for i := range 2 {
		if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.status != 200 {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
	}
	r := s.do("GET", "/admin/providers", "", map[string]string{"Authorization": "Bearer " + adminKey})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, part := range []string{keyA, keyB, "sk-relay-held-key"} {
		if strings.Contains(string(r.body), part) {
			t.Fatalf("the answer holds a key: %s", r.body)
		}
	}
	var body struct {
		Data []struct {
			Name    string `json:"name"`
			BaseURL string `json:"base_url"`
			Keys    []struct {
				ID        string  `json:"id"`
				Last4     string  `json:"last4"`
				Benched   bool    `json:"benched"`
				Reason    *string `json:"reason"`
				LastError *string `json:"last_error"`
				LastUsed  *string `json:"last_used"`
			} `json:"keys"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for i, p := range body.Data {
		byName[p.Name] = i
	}
	if _, ok := byName["openai"]; !ok {
		t.Fatalf("a built-in provider is missing: %s", r.body)
	}
	if p := body.Data[byName["openai"]]; p.BaseURL != "https://api.openai.com" || len(p.Keys) != 0 {
		t.Fatalf("openai %+v", p)
	}
	mock := body.Data[byName["mock"]]
	if mock.BaseURL != s.upstream.URL || len(mock.Keys) != 2 {
		t.Fatalf("mock %+v", mock)
	}
	a, b := mock.Keys[0], mock.Keys[1]
	if a.ID != "key#1" || a.Last4 != "aaaa" || !a.Benched || a.Reason == nil || a.LastError == nil ||
		*a.LastError != "401 Unauthorized" || a.LastUsed == nil {
		t.Fatalf("key A %+v", a)
	}
	if b.ID != "key#2" || b.Last4 != "bbbb" || b.Benched || b.LastError != nil || b.LastUsed == nil {
		t.Fatalf("key B %+v", b)
	}
}

// GET /admin/stats reports the streams in flight on this relay and the
// calls of the request log.
func TestAdminStatsCountActiveStreamsAndLoggedCalls(t *testing.T) {
	s := newStack(t, mockprovider.New(mockprovider.Options{}), func(c *config.Config) { c.Metrics.Enabled = true })
	tok := s.token(nil)
	if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	stats := func() (active, requests int64) {
		r := s.do("GET", "/admin/stats", "", map[string]string{"Authorization": "Bearer " + adminKey})
		var st struct {
			ActiveStreams int64 `json:"active_streams"`
			Totals        struct {
				Requests int64 `json:"requests"`
			} `json:"totals"`
		}
		if err := json.Unmarshal(r.body, &st); err != nil || r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		return st.ActiveStreams, st.Totals.Requests
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("the call in the stats", func() bool { _, n := stats(); return n == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		body := `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/t/"+tok+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Mock-Stream-Forever", "1")
		if resp, err := s.client().Do(req); err == nil {
			_, _ = resp.Body.Read(make([]byte, 1))
			<-ctx.Done()
			resp.Body.Close()
		}
	})
	waitFor("one active stream", func() bool { n, _ := stats(); return n == 1 })
	cancel()
	wg.Wait()
	waitFor("no active stream", func() bool { n, _ := stats(); return n == 0 })
}

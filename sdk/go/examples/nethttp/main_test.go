package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	relayapi "github.com/relayapi/relayapi/sdk/go"
	"github.com/relayapi/relayapi/sdk/go/rai"
)

func TestTheHandlerHandsTheSignedInUserABaseURLWithTheirToken(t *testing.T) {
	f, err := rai.GenerateAES(rai.Server{Host: "relay.example.com", Port: 443})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := f.Marshal()
	relay, err := relayapi.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	h := sessionHandler(relay, "sk-test-0000000000000000")
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/ai-session", nil)
	req.Header.Set("X-User-Id", "alice")
	h.ServeHTTP(rec, req)
	var got struct{ BaseURL string }
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	tok, ok := strings.CutPrefix(got.BaseURL, "https://relay.example.com/t/")
	if !ok || !strings.HasSuffix(tok, "/v1") {
		t.Fatalf("base URL %q", got.BaseURL)
	}
	claims, err := relay.Inspect(strings.TrimSuffix(tok, "/v1"))
	if err != nil || claims.Subject != "alice" || claims.MaxCalls != 10 {
		t.Fatalf("claims %+v %v", claims, err)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/ai-session", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d", rec.Code)
	}
}

package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
)

func TestAdminUsageAndRevocation(t *testing.T) {
	s := newStack(t, mockprovider.New(mockprovider.Options{}), nil)
	id := cliID()
	tok := s.token(func(c *token.Claims) { c.ID = id; c.MaxCalls = 5 })
	auth := map[string]string{"Authorization": "Bearer " + adminKey}
	if r := s.do("GET", "/admin/tokens/"+id, "", auth); r.status != 404 {
		t.Fatalf("unknown token: %d %s", r.status, r.body)
	}
	for i := 0; i < 2; i++ {
		s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil)
	}
	r := s.do("GET", "/admin/tokens/"+id, "", auth)
	var u struct {
		JTI      string `json:"jti"`
		Calls    int64  `json:"calls"`
		MaxCalls int64  `json:"max_calls"`
		Revoked  bool   `json:"revoked"`
		First    string `json:"first_seen"`
	}
	if err := json.Unmarshal(r.body, &u); err != nil || r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if u.JTI != id || u.Calls != 2 || u.MaxCalls != 5 || u.Revoked || u.First == "" {
		t.Fatalf("usage %+v", u)
	}
	if r := s.do("POST", "/admin/tokens/"+id+"/revoke", "", auth); r.status != 200 {
		t.Fatalf("revoke %d %s", r.status, r.body)
	}
	if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.code() != "token_revoked" {
		t.Fatalf("after revoke: %d %s", r.status, r.body)
	}
	if r := s.do("GET", "/admin/tokens/"+id, "", auth); !strings.Contains(string(r.body), `"revoked":true`) {
		t.Fatalf("usage after revoke %s", r.body)
	}
}

func TestAdminRequiresTheExactKey(t *testing.T) {
	s := newStack(t, mockprovider.New(mockprovider.Options{}), nil)
	for name, headers := range map[string]map[string]string{
		"none":   nil,
		"wrong":  {"Authorization": "Bearer " + adminKey + "x"},
		"prefix": {"Authorization": "Bearer " + adminKey[:10]},
		"scheme": {"Authorization": "Basic " + adminKey},
	} {
		if r := s.do("GET", "/admin/tokens/whatever-000000000000", "", headers); r.status != 401 || r.code() != "unauthorized" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
}

func TestAdminIsDisabledWithoutAKey(t *testing.T) {
	s := newStack(t, mockprovider.New(mockprovider.Options{}), func(c *config.Config) { c.Admin.Key = "" })
	r := s.do("GET", "/admin/tokens/x", "", map[string]string{"Authorization": "Bearer "})
	if r.status != 404 {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

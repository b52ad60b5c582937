package admin_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

func TestTokenUsageReportsCountersLimitsTimesAndLastError(t *testing.T) {
	f := newFixture(t, adminKey)
	budgeted := func(a *store.Admission) {
		a.MaxCalls, a.TokenBudget, a.PromptEstimate, a.RequestedMaxTokens = 5, 1000, 10, 100
	}
	g := f.admit("tok-a", "user-1", budgeted)
	f.settle("tok-a", g, 12, 30, "upstream_timeout")
	failed := f.admit("tok-a", "user-1", budgeted) // given back: not counted
	if err := f.store.Settle(ctx, store.Settlement{TokenID: "tok-a", LeaseID: failed.LeaseID, Reserved: failed.Reserved,
		Refund: true, RefundLimit: 5, LastError: "upstream_timeout", Now: base.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	open := f.admit("tok-a", "user-1", budgeted)

	r := f.get("/admin/tokens/tok-a")
	u := r.object(t)
	if r.status != http.StatusOK || keys(u) != tokenFields {
		t.Fatalf("%d %s", r.status, r.body)
	}
	want := map[string]any{
		"jti": "tok-a", "sub": "user-1", "calls": 2.0, "max_calls": 5.0, "refunds": 1.0, "prompt_tokens": 12.0,
		"completion_tokens": 30.0, "tokens_used": 42.0, "token_budget": 1000.0,
		"tokens_reserved": float64(open.Reserved), "revoked": false, "last_error": "upstream_timeout",
		"expires_at": base.Add(24 * time.Hour).Format(time.RFC3339),
	}
	for k, v := range want {
		if u[k] != v {
			t.Errorf("%s = %v, want %v", k, u[k], v)
		}
	}
	if open.Reserved == 0 || u["first_seen"] == nil || u["last_seen"] == nil {
		t.Fatalf("reservation or times missing: %s", r.body)
	}
}

func TestTokenUsageHasNullForNoLimitNoErrorAndUnknownTimes(t *testing.T) {
	f := newFixture(t, adminKey)
	f.admit("free", "", nil)
	if err := f.store.Revoke(ctx, "never-seen", base); err != nil {
		t.Fatal(err)
	}
	free := f.get("/admin/tokens/free").object(t)
	for _, k := range []string{"max_calls", "token_budget", "last_error"} {
		if v, ok := free[k]; !ok || v != nil {
			t.Errorf("free %s = %v, want null", k, v)
		}
	}
	if free["refunds"] != 0.0 {
		t.Errorf("free refunds = %v, want 0", free["refunds"])
	}
	unseen := f.get("/admin/tokens/never-seen").object(t)
	if keys(unseen) != tokenFields || unseen["revoked"] != true {
		t.Fatalf("revoked unseen token: %v", unseen)
	}
	for _, k := range []string{"first_seen", "last_seen", "expires_at", "max_calls"} {
		if unseen[k] != nil {
			t.Errorf("unseen %s = %v, want null", k, unseen[k])
		}
	}
}

func TestUnknownTokenIsNotFound(t *testing.T) {
	f := newFixture(t, adminKey)
	r := f.get("/admin/tokens/nobody")
	if r.status != http.StatusNotFound || r.code(t) != "not_found" {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestRevokeRefusesTheNextAdmissionAndShowsInUsage(t *testing.T) {
	f := newFixture(t, adminKey)
	f.admit("tok-r", "", nil)
	r := f.do(http.MethodPost, "/admin/tokens/tok-r/revoke")
	if r.status != http.StatusOK || string(r.body) != `{"jti":"tok-r","revoked":true}` {
		t.Fatalf("%d %s", r.status, r.body)
	}
	g, err := f.store.Admit(ctx, store.Admission{TokenID: "tok-r", ExpiresAt: base.Add(time.Hour), Now: time.Now()})
	if err != nil || g.Decision != store.Revoked {
		t.Fatalf("after revoke: %v %+v", err, g)
	}
	if f.get("/admin/tokens/tok-r").object(t)["revoked"] != true {
		t.Fatal("usage does not say revoked")
	}
	if again := f.do(http.MethodPost, "/admin/tokens/tok-r/revoke"); again.status != http.StatusOK {
		t.Fatalf("revoking twice: %d %s", again.status, again.body)
	}
}

func TestTokenListingFiltersBySubjectAndPagesWithACursor(t *testing.T) {
	f := newFixture(t, adminKey)
	for i := 0; i < 5; i++ {
		f.admit(fmt.Sprintf("tok-%d", i), "alice", nil)
	}
	f.admit("tok-bob", "bob", nil)

	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		data, next := page(t, f.get("/admin/tokens?sub=alice&limit=2&cursor="+cursor))
		for _, u := range data {
			if keys(u) != tokenFields || u["sub"] != "alice" {
				t.Fatalf("listed %v", u)
			}
			seen = append(seen, u["jti"].(string))
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if strings.Join(seen, ",") != "tok-0,tok-1,tok-2,tok-3,tok-4" {
		t.Fatalf("pages gave %v", seen)
	}
}

func TestTokenListingWithoutSubjectListsEveryTokenInOnePage(t *testing.T) {
	f := newFixture(t, adminKey)
	f.admit("a", "alice", nil)
	f.admit("b", "bob", nil)
	data, next := page(t, f.get("/admin/tokens"))
	if len(data) != 2 || next != "" {
		t.Fatalf("%d tokens, next %q", len(data), next)
	}
	empty, _ := page(t, f.get("/admin/tokens?sub=carol"))
	if len(empty) != 0 {
		t.Fatalf("carol has %v", empty)
	}
}

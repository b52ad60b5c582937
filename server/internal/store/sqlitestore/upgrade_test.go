package sqlitestore

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/relayapi/relayapi/server/internal/store"
)

// A file written before refunds were counted upgrades in place: its
// tokens keep their calls, start with no refunds, and the refunds counted
// from then on survive a reopen (the limit must hold across restarts).
func TestUpgradeCountsRefundsFromZeroAndKeepsThem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relayapi.db")
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	const before = 5 // migrations shipped before the refunds column
	for _, m := range migrations[:before] {
		if _, err := old.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	a := admission("old-token", func(a *store.Admission) { a.MaxCalls = 3 })
	if _, err := old.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, before)); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`INSERT INTO token_usage (jti, calls, expires_at, first_seen, last_seen, max_calls)
VALUES (?, 2, ?, ?, ?, 3)`, a.TokenID, a.ExpiresAt.Unix(), base.UnixMilli(), base.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	u, ok, err := s.Usage(bg, a.TokenID)
	if err != nil || !ok || u.Calls != 2 || u.Refunds != 0 {
		t.Fatalf("upgraded token: %+v %v %v", u, ok, err)
	}
	for range 2 { // one honoured, one past the limit
		if err := s.Settle(bg, store.Settlement{TokenID: a.TokenID, Refund: true, RefundLimit: 1, Now: base}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Settle(bg, store.Settlement{TokenID: a.TokenID, Refund: true, RefundLimit: 1, Now: base}); err != nil {
		t.Fatal(err)
	}
	if u, _, _ = s.Usage(bg, a.TokenID); u.Calls != 1 || u.Refunds != 1 {
		t.Fatalf("after a reopen the limit must still hold: %+v", u)
	}
}

package admin

import (
	"encoding/json"
	"net/http"
	"time"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// positive is n, or nil for 0 ("no limit").
func positive(n int64) *int64 {
	if n <= 0 {
		return nil
	}
	return &n
}

// known is t in UTC, or nil when the store does not know it (zero or the
// Unix epoch, which is how a missing time reads back).
func known(t time.Time) *time.Time {
	if t.IsZero() || t.Unix() <= 0 {
		return nil
	}
	u := t.UTC()
	return &u
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

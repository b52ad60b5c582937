package relay

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/credentials"
)

// Only what may be the key's doing is reported on it: a refusal of the
// key, a provider error or a transport failure; not a request's own 4xx,
// nor a request the client gave up on.
func TestReportKeyRecordsWhatMayBeTheKeysDoing(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		ctx    context.Context
		status int
		err    error
		want   string
	}{
		{context.Background(), http.StatusUnauthorized, nil, "401 Unauthorized"},
		{context.Background(), http.StatusForbidden, nil, "403 Forbidden"},
		{context.Background(), http.StatusTooManyRequests, nil, "429 Too Many Requests"},
		{context.Background(), http.StatusBadGateway, nil, "502 Bad Gateway"},
		{context.Background(), 0, errors.New("dial tcp: connection refused"), "connect"},
		{context.Background(), 0, os.ErrDeadlineExceeded, "timeout"},
		{context.Background(), http.StatusOK, nil, ""},
		{context.Background(), http.StatusBadRequest, nil, ""},
		{context.Background(), http.StatusNotFound, nil, ""},
		{canceled, 0, context.Canceled, ""},
		{canceled, http.StatusBadGateway, nil, ""},
	} {
		pool := credentials.NewPool([]string{"sk-relay-held-key-0001"})
		key, _ := pool.Next(time.Now())
		reportKey(c.ctx, pool, key, c.status, c.err)
		if got := pool.Status(time.Now())[0].LastError; got != c.want {
			t.Errorf("status %d, err %v: last error %q, want %q", c.status, c.err, got, c.want)
		}
	}
	reportKey(context.Background(), nil, credentials.Key{}, 500, nil) // no pool: nothing to do
}

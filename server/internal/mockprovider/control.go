package mockprovider

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Bounds of POST /_mock/stored.
const (
	maxStoredTokens  = 10_000_000
	maxStoredIDLen   = 128
	maxControlBodyKB = 16
)

// serveControl answers /_mock/*: the mock's own test controls, neither
// counted nor recorded nor compressed.
func (p *Provider) serveControl(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_mock/stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, p.Stats(), false)
	case r.URL.Path == "/_mock/reset" && r.Method == http.MethodPost:
		p.Reset()
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true}, false)
	case r.URL.Path == "/_mock/requests" && r.Method == http.MethodGet:
		p.serveRequests(w, r)
	case r.URL.Path == "/_mock/stored" && r.Method == http.MethodPost:
		p.serveStored(w, r)
	default:
		controlError(w, http.StatusNotFound, "unknown mock control "+r.Method+" "+r.URL.Path)
	}
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": msg, "type": "invalid_request_error", "param": nil, "code": nil,
	}}, false)
}

// serveRequests answers GET /_mock/requests?path=&key=&limit=.
func (p *Provider) serveRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	all := p.Requests()
	out := make([]Request, 0, len(all))
	for _, rq := range all {
		if v := q.Get("path"); v != "" && rq.Path != v {
			continue
		}
		if v := q.Get("key"); v != "" && rq.Key != v {
			continue
		}
		out = append(out, rq)
	}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n >= 0 && n < len(out) {
		out = out[len(out)-n:]
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out}, false)
}

// serveStored answers POST /_mock/stored {"id":"resp_…"|"conv_…","tokens":N}:
// it seeds a stored response or conversation holding N context tokens, so
// a test can continue a ~50k-token conversation without sending one.
func (p *Provider) serveStored(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID     string `json:"id"`
		Tokens int    `json:"tokens"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxControlBodyKB<<10))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	okID := len(req.ID) <= maxStoredIDLen &&
		(strings.HasPrefix(req.ID, "resp_") || strings.HasPrefix(req.ID, "conv_"))
	switch {
	case err != nil:
		controlError(w, http.StatusBadRequest, "want JSON {\"id\":\"resp_…\" or \"conv_…\",\"tokens\":N}")
	case !okID:
		controlError(w, http.StatusBadRequest, "id must start with resp_ or conv_ (at most 128 bytes)")
	case req.Tokens < 0 || req.Tokens > maxStoredTokens:
		controlError(w, http.StatusBadRequest, "tokens must be 0–10000000")
	default:
		p.store.seed(req.ID, req.Tokens, p.opts.Now().Unix())
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "id": req.ID, "tokens": req.Tokens}, false)
	}
}

package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/relayapi/relayapi/sdk/go/token"
)

// Models of the demo tokens: the one every chat token allows, the one the
// "model" scenario asks for instead, and the one of the "realtime" scenario
// (a WebSocket session, docs/api.md "Realtime sessions").
const (
	Model         = "gpt-4o-mini"
	OtherModel    = "gpt-4o"
	RealtimeModel = "gpt-realtime-mini"
)

// UpstreamKey is the "real" provider key the demo tokens carry, encrypted:
// the mock provider accepts any key. The page never sees it.
const UpstreamKey = "sk-demo-mock-provider-key"

// sessions mints the tokens the page asks for, as an app's backend would
// with an SDK and its .rai file.
type sessions struct {
	key    *token.MintKey
	relay  *net.TCPAddr
	client *http.Client
}

// Session is the answer of GET /api/session (the same as examples/web's).
type Session struct {
	Scenario string `json:"scenario"`
	BaseURL  string `json:"baseURL"`
	Model    string `json:"model"`
	// WaitMs is how long the page waits before sending (always 0 here).
	WaitMs int64 `json:"waitMs"`
}

var hostPattern = regexp.MustCompile(`^[A-Za-z0-9.\-\[\]:]+$`)

func (s *sessions) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	scenario := r.URL.Query().Get("scenario")
	if scenario == "" {
		scenario = "ok"
	}
	if !hostPattern.MatchString(r.Host) {
		writeError(w, http.StatusBadRequest, errors.New("bad Host header"))
		return
	}
	// The page's origin as the browser sees it: the Host it asked for.
	origin := "http://" + strings.ToLower(r.Host)
	answer, err := s.session(r, scenario, origin)
	switch {
	case errors.Is(err, errBadScenario):
		writeError(w, http.StatusBadRequest, err)
	case err != nil:
		writeError(w, http.StatusBadGateway, err)
	default:
		_ = json.NewEncoder(w).Encode(answer)
	}
}

func writeError(w http.ResponseWriter, status int, err error) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": err.Error()}})
}

// relayBase is the relay's URL for a browser that reached the page at
// r.Host: a relay on an unspecified address is reached on the page's host.
func (s *sessions) relayBase(r *http.Request) string {
	host := s.relay.IP.String()
	if s.relay.IP.IsUnspecified() {
		host = "127.0.0.1"
		if h, _, err := net.SplitHostPort(r.Host); err == nil && h != "" {
			host = strings.Trim(h, "[]")
		}
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(s.relay.Port))
}

func (s *sessions) session(r *http.Request, scenario, origin string) (*Session, error) {
	now := time.Now()
	claims := &token.Claims{
		IssuedAt:  now.Unix(),
		ExpiresAt: now.Add(10 * time.Minute).Unix(),
		Subject:   "demo-user",
		Provider:  Provider,
		APIKey:    UpstreamKey,
		MaxCalls:  20,
		Models:    []string{Model},
		Paths:     []string{"/v1/chat/completions", "/v1/models"},
		Origins:   []string{origin},
		Meta:      map[string]string{"app": "relayapi-demo", "scenario": scenario},
	}
	answer := &Session{Scenario: scenario, Model: Model}
	switch scenario {
	case "ok":
	case "model":
		answer.Model = OtherModel
	case "wrong-origin":
		claims.Origins = []string{"https://another-site.example"}
	case "exhausted":
		claims.MaxCalls = 1
	case "expired":
		claims.IssuedAt = now.Add(-2 * time.Hour).Unix()
		claims.ExpiresAt = now.Add(-time.Hour).Unix()
	case "realtime":
		// One WebSocket session is one call; the page's origin is checked
		// against the handshake's Origin (no CORS protects a WebSocket).
		claims.Models = []string{RealtimeModel}
		claims.Paths = []string{"/v1/realtime"}
		answer.Model = RealtimeModel
	default:
		return nil, errBadScenario
	}
	claims.ID = token.NewID()
	tok, err := token.Encode(claims, s.key)
	if err != nil {
		return nil, err
	}
	answer.BaseURL = s.relayBase(r) + "/t/" + tok + "/v1"
	if scenario == "exhausted" {
		if err := s.spend(r, answer.BaseURL, origin); err != nil {
			return nil, err
		}
	}
	return answer, nil
}

// spend uses up a one-call token's call (GET /v1/models), so the page's
// own call is refused with call_limit_exceeded.
func (s *sessions) spend(r *http.Request, baseURL, origin string) error {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, baseURL+"/models", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Origin", origin)
	res, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("the relay cannot be reached: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("spending the token's call failed: the relay answered %d", res.StatusCode)
	}
	return nil
}

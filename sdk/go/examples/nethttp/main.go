// Command nethttp is a backend endpoint that hands a browser a relay base
// URL: the browser then calls the AI API with the official SDK through the
// relay, and never sees the API key.
//
//	RELAYAPI_RAI=default.rai OPENAI_API_KEY=sk-… PORT=3000 go run ./examples/nethttp
//	curl -H 'X-User-Id: alice' localhost:3000/api/ai-session
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"time"

	relayapi "github.com/relayapi/relayapi/sdk/go"
)

func main() {
	relay, err := relayapi.FromEnv()
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/ai-session", sessionHandler(relay, os.Getenv("OPENAI_API_KEY")))
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// sessionHandler mints a token for the signed-in user: ten calls to one
// model within ten minutes.
func sessionHandler(relay *relayapi.Client, apiKey string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := r.Header.Get("X-User-Id") // stands in for your own authentication
		if user == "" {
			http.Error(w, `{"error":"sign in first"}`, http.StatusUnauthorized)
			return
		}
		tok, err := relay.CreateToken(relayapi.TokenRequest{
			Provider: "openai", APIKey: apiKey, Subject: user,
			MaxCalls: 10, ExpiresIn: 10 * time.Minute, Models: []string{"gpt-4o-mini"},
		})
		if err != nil {
			log.Printf("mint: %v", err)
			http.Error(w, `{"error":"cannot start a session"}`, http.StatusInternalServerError)
			return
		}
		baseURL, err := relay.BaseURL(tok.Value, relayapi.OpenAI)
		if err != nil {
			http.Error(w, `{"error":"cannot start a session"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"baseURL": baseURL, "expiresAt": tok.ExpiresAt})
	})
}

package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/testservers"
)

// BenchmarkRelayByStore compares the relay's throughput on each usage
// store, side by side in one run (ratios, not absolute numbers, mean
// something on a shared machine):
//
//	go test ./internal/server -run '^$' -bench RelayByStore -benchtime 3s
func BenchmarkRelayByStore(b *testing.B) {
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}`)
	})
	stores := map[string]func(*config.Config){
		"sqlite":   func(*config.Config) {},
		"redis":    func(c *config.Config) { c.Store = storeConfig("redis", testservers.Redis(b)) },
		"postgres": func(c *config.Config) { c.Store = storeConfig("postgres", testservers.Postgres(b)) },
	}
	for _, name := range []string{"sqlite", "redis", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := newStack(b, upstream, stores[name])
			tok := s.token(func(c *token.Claims) { c.MaxCalls = 1 << 40; c.RPM = 1_000_000 })
			url := s.url + "/t/" + tok + "/v1/chat/completions"
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Post(url, "application/json", strings.NewReader(chatBody))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}

func storeConfig(driver, url string) config.Store {
	st := config.Default().Store
	st.Driver, st.URL = driver, url
	return st
}

package mockprovider

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Every recorded request carries the usage the mock produced, its caps
// and its n; the stats keep the totals.
func TestRecordedRequestCarriesProducedUsage(t *testing.T) {
	p, srv := newServer(t, Options{})
	_, m := postJSON(t, srv.URL+"/v1/chat/completions",
		`{"model":"o4-mini","n":2,"max_completion_tokens":70,"messages":[{"role":"user","content":"hi there"}]}`)
	r := lastRequest(t, p)
	if r.ProducedPromptTokens != num(t, m, "usage", "prompt_tokens") || r.ProducedCompletionTokens != num(t, m, "usage", "completion_tokens") ||
		r.ProducedReasoningTokens != 2*reasoningTokens || r.N != 2 || r.Caps["max_completion_tokens"] != 70 || *r.MaxTokens != 70 {
		t.Errorf("recorded %+v for usage %v", r, m["usage"])
	}
	postJSON(t, srv.URL+"/v1beta/models/gemini-2.5-flash:generateContent",
		geminiBody(`,"generationConfig":{"maxOutputTokens":100,"candidateCount":2}`), "x-goog-api-key", "k")
	if g := lastRequest(t, p); g.Caps["maxOutputTokens"] != 100 || g.N != 2 || g.ProducedReasoningTokens != 2*reasoningTokens {
		t.Errorf("gemini recorded %+v", g)
	}
	postJSON(t, srv.URL+"/v1/responses", `{"model":"gpt-4.1","input":"x","max_output_tokens":30}`)
	if rr := lastRequest(t, p); rr.Caps["max_output_tokens"] != 30 || rr.ProducedCompletionTokens == 0 {
		t.Errorf("responses recorded %+v", rr)
	}
	var total [2]int64
	for _, rq := range p.Requests() {
		total[0] += int64(rq.ProducedPromptTokens)
		total[1] += int64(rq.ProducedCompletionTokens)
	}
	if st := p.Stats(); st.ProducedPromptTokens != total[0] || st.ProducedCompletionTokens != total[1] {
		t.Errorf("stats %+v, requests total %v", st, total)
	}
	postJSON(t, srv.URL+"/v1/chat/completions", chatBody(`,"max_tokens":0`))
	if e := lastRequest(t, p); e.Status != 400 || e.ProducedPromptTokens != 0 || e.ProducedCompletionTokens != 0 {
		t.Errorf("a refused request billed %+v", e)
	}
}

// A stream the client cut short bills what the mock wrote before it
// noticed: the prompt and the content chunks sent, not the whole answer.
func TestCanceledStreamBillsWhatWasWritten(t *testing.T) {
	p, srv := newServer(t, Options{ChunkDelay: 20 * time.Millisecond, Chunks: 1000})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions",
		strings.NewReader(chatBody(`,"stream":true`)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	const seen = 5
	for n := 0; n < seen; {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(line, `"content":"`) && !strings.Contains(line, `"role"`) {
			n++
		}
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for p.Stats().Canceled != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("cancel not seen: %+v", p.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	r := lastRequest(t, p)
	if r.ProducedCompletionTokens < seen || r.ProducedCompletionTokens > seen+3 || r.ProducedPromptTokens != PromptTokens("Be brief.", userMsg) {
		t.Errorf("canceled stream billed %d completion tokens after %d were read (%+v)", r.ProducedCompletionTokens, seen, r)
	}
}

package mockprovider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func geminiBody(extra string) string {
	return `{"systemInstruction":{"parts":[{"text":"Be brief."}]},"contents":[{"role":"user","parts":[{"text":"` + userMsg + `"}]}]` + extra + `}`
}

func geminiURL(srv string, model, method string) string {
	return srv + "/v1beta/models/" + model + ":" + method
}

func TestGeminiGenerateContentShapeAndUsage(t *testing.T) {
	p, srv := newServer(t, Options{})
	code, m := postJSON(t, geminiURL(srv.URL, "gemini-2.0-flash", "generateContent"), geminiBody(""), "x-goog-api-key", "g-key")
	want := CompletionPrefix + userMsg
	if code != 200 || str(t, m, "candidates", 0, "content", "role") != "model" ||
		str(t, m, "candidates", 0, "content", "parts", 0, "text") != want ||
		str(t, m, "candidates", 0, "finishReason") != "STOP" || num(t, m, "candidates", 0, "index") != 0 ||
		str(t, m, "modelVersion") != "gemini-2.0-flash" || str(t, m, "responseId") == "" {
		t.Fatalf("%d %v", code, m)
	}
	prompt, out := PromptTokens("Be brief.", userMsg), len(strings.Split(want, " "))
	u := at(t, m, "usageMetadata")
	if num(t, u, "promptTokenCount") != prompt || num(t, u, "candidatesTokenCount") != out ||
		num(t, u, "totalTokenCount") != prompt+out || num(t, u, "promptTokensDetails", 0, "tokenCount") != prompt {
		t.Errorf("usageMetadata = %v", u)
	}
	if _, ok := u.(map[string]any)["thoughtsTokenCount"]; ok {
		t.Errorf("a non-thinking model reports thoughts: %v", u)
	}
	if r := lastRequest(t, p); r.Model != "gemini-2.0-flash" || r.Key != "g-key" || r.ProducedCompletionTokens != out {
		t.Errorf("recorded %+v", r)
	}
}

// Thinking models bill thoughts as output outside candidatesTokenCount,
// and maxOutputTokens bounds thoughts and text together.
func TestGeminiThinkingTokensBoundedByMaxOutputTokens(t *testing.T) {
	_, srv := newServer(t, Options{})
	visible := len(strings.Split(CompletionPrefix+userMsg, " "))
	for _, tc := range []struct {
		extra             string
		thoughts, visible int
		finish            string
	}{
		{"", reasoningTokens, visible, "STOP"},
		{`,"generationConfig":{"maxOutputTokens":70}`, reasoningTokens, 6, "MAX_TOKENS"},
		{`,"generationConfig":{"maxOutputTokens":40}`, 40, 0, "MAX_TOKENS"},
		{`,"generationConfig":{"thinkingConfig":{"thinkingBudget":10}}`, 10, visible, "STOP"},
		{`,"generationConfig":{"thinkingConfig":{"thinkingBudget":0}}`, 0, visible, "STOP"},
	} {
		_, m := postJSON(t, geminiURL(srv.URL, "gemini-2.5-flash", "generateContent"), geminiBody(tc.extra), "x-goog-api-key", "k")
		u := at(t, m, "usageMetadata").(map[string]any)
		thoughts, _ := u["thoughtsTokenCount"].(float64)
		cands, _ := u["candidatesTokenCount"].(float64)
		if int(thoughts) != tc.thoughts || int(cands) != tc.visible ||
			num(t, u, "totalTokenCount") != num(t, u, "promptTokenCount")+tc.thoughts+tc.visible ||
			str(t, m, "candidates", 0, "finishReason") != tc.finish {
			t.Errorf("%s: %v", tc.extra, m)
		}
		if _, hasParts := at(t, m, "candidates", 0, "content").(map[string]any)["parts"]; hasParts != (tc.visible > 0) {
			t.Errorf("%s: parts present %v with %d text tokens", tc.extra, hasParts, tc.visible)
		}
	}
	code, m := postJSON(t, geminiURL(srv.URL, "gemini-2.5-pro", "generateContent"),
		geminiBody(`,"generationConfig":{"thinkingConfig":{"thinkingBudget":0}}`), "x-goog-api-key", "k")
	if code != 400 || str(t, m, "error", "status") != "INVALID_ARGUMENT" {
		t.Errorf("2.5 Pro with thinking off: %d %v", code, m)
	}
}

func TestGeminiMaxOutputTokensAboveLimitIsRefused(t *testing.T) {
	_, srv := newServer(t, Options{})
	resp, raw := send(t, http.DefaultClient, geminiURL(srv.URL, "gemini-2.0-flash", "generateContent"),
		geminiBody(`,"generationConfig":{"maxOutputTokens":655360}`), "x-goog-api-key", "k")
	want := `{"error":{"code":400,"message":"Unable to submit request because it has a maxOutputTokens value of 655360 but the supported range is from 1 (inclusive) to 8193 (exclusive). Update the value and try again.","status":"INVALID_ARGUMENT"}}`
	if resp.StatusCode != 400 || !sameJSON(t, raw, want) {
		t.Errorf("%d %s", resp.StatusCode, raw)
	}
	if code, _ := postJSON(t, geminiURL(srv.URL, "gemini-2.5-pro", "generateContent"),
		geminiBody(`,"generationConfig":{"maxOutputTokens":65536}`), "x-goog-api-key", "k"); code != 200 {
		t.Errorf("at the limit: %d", code)
	}
}

func TestGeminiCandidateCountMultipliesOutput(t *testing.T) {
	_, srv := newServer(t, Options{})
	_, m := postJSON(t, geminiURL(srv.URL, "gemini-2.5-flash", "generateContent"),
		geminiBody(`,"generationConfig":{"candidateCount":3}`), "x-goog-api-key", "k")
	visible := len(strings.Split(CompletionPrefix+userMsg, " "))
	if len(at(t, m, "candidates").([]any)) != 3 || num(t, m, "candidates", 2, "index") != 2 ||
		num(t, m, "usageMetadata", "candidatesTokenCount") != 3*visible ||
		num(t, m, "usageMetadata", "thoughtsTokenCount") != 3*reasoningTokens {
		t.Errorf("%v", m)
	}
}

func TestGeminiAuthByHeaderKeyOrBearerElse403(t *testing.T) {
	_, srv := newServer(t, Options{})
	url := geminiURL(srv.URL, "gemini-2.0-flash", "generateContent")
	code, m := postJSON(t, url, geminiBody(""))
	if code != 403 || num(t, m, "error", "code") != 403 || str(t, m, "error", "status") != "PERMISSION_DENIED" ||
		!strings.HasPrefix(str(t, m, "error", "message"), "Method doesn't allow unregistered callers") {
		t.Errorf("no key: %d %v", code, m)
	}
	for _, tc := range []struct {
		url     string
		headers []string
	}{
		{url + "?key=q-key", nil},
		{url, []string{"Authorization", "Bearer ya29.token"}},
		{srv.URL + "/v1/tunedModels/my-tuned:generateContent", []string{"x-goog-api-key", "k"}},
		{srv.URL + "/v1/models/gemini-2.0-flash:generateContent", []string{"x-goog-api-key", "k"}},
	} {
		if code, m := postJSON(t, tc.url, geminiBody(""), tc.headers...); code != 200 {
			t.Errorf("%s %v: %d %v", tc.url, tc.headers, code, m)
		}
	}
}

func TestGeminiErrorsInGoogleShape(t *testing.T) {
	_, srv := newServer(t, Options{})
	for status, name := range map[int]string{400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"} {
		code, m := postJSON(t, geminiURL(srv.URL, "gemini-2.0-flash", "generateContent"), geminiBody(""),
			"x-goog-api-key", "k", "x-mock-status", fmt.Sprint(status))
		if code != status || num(t, m, "error", "code") != status || str(t, m, "error", "status") != name {
			t.Errorf("x-mock-status %d: %d %v", status, code, m)
		}
	}
	if code, m := postJSON(t, geminiURL(srv.URL, "gemini-2.0-flash", "generateContent"), `{"contents":[]}`, "x-goog-api-key", "k"); code != 400 ||
		str(t, m, "error", "status") != "INVALID_ARGUMENT" {
		t.Errorf("no contents: %d %v", code, m)
	}
	if code, m := postJSON(t, srv.URL+"/v1beta/models/gemini-2.0-flash:nope", geminiBody(""), "x-goog-api-key", "k"); code != 404 ||
		str(t, m, "error", "status") != "NOT_FOUND" {
		t.Errorf("unknown method: %d %v", code, m)
	}
}

// With alt=sse: "data: {…}\r\n\r\n" events, each with cumulative
// usageMetadata; the last carries finishReason.
func TestGeminiStreamSSEUsesCRLFAndCumulativeUsage(t *testing.T) {
	_, srv := newServer(t, Options{})
	resp, raw := send(t, http.DefaultClient, geminiURL(srv.URL, "gemini-2.5-flash", "streamGenerateContent")+"?alt=sse",
		geminiBody(""), "x-goog-api-key", "k", "x-mock-chunks", "4")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("content-type %q", resp.Header.Get("Content-Type"))
	}
	frames := strings.Split(strings.TrimSuffix(string(raw), "\r\n\r\n"), "\r\n\r\n")
	if len(frames) != 4 {
		t.Fatalf("%d frames in %q", len(frames), raw)
	}
	var text strings.Builder
	for i, f := range frames {
		d, ok := strings.CutPrefix(f, "data: ")
		if !ok || strings.ContainsAny(d, "\r\n") {
			t.Fatalf("frame %d: %q", i, f)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		text.WriteString(str(t, m, "candidates", 0, "content", "parts", 0, "text"))
		if num(t, m, "usageMetadata", "candidatesTokenCount") != i+1 ||
			num(t, m, "usageMetadata", "thoughtsTokenCount") != reasoningTokens {
			t.Errorf("frame %d usage %v", i, m["usageMetadata"])
		}
		_, finished := at(t, m, "candidates", 0).(map[string]any)["finishReason"]
		if finished != (i == 3) {
			t.Errorf("frame %d: finishReason present %v", i, finished)
		}
	}
	if text.String() != ExpectedCompletion(userMsg, 4, 0) {
		t.Errorf("text %q", text.String())
	}
}

// Without alt=sse the stream is one JSON array of responses.
func TestGeminiStreamWithoutAltIsJSONArray(t *testing.T) {
	_, srv := newServer(t, Options{})
	resp, raw := send(t, http.DefaultClient, geminiURL(srv.URL, "gemini-2.0-flash", "streamGenerateContent"),
		geminiBody(""), "x-goog-api-key", "k", "x-mock-chunks", "3")
	var arr []map[string]any
	if err := json.Unmarshal(raw, &arr); err != nil || len(arr) != 3 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%v, %d elements: %q", err, len(arr), raw)
	}
	if str(t, arr[2], "candidates", 0, "finishReason") != "STOP" || num(t, arr[2], "usageMetadata", "candidatesTokenCount") != 3 {
		t.Errorf("last element %v", arr[2])
	}
}

func TestGeminiCountTokens(t *testing.T) {
	p, srv := newServer(t, Options{})
	for _, body := range []string{geminiBody(""), `{"generateContentRequest":` + geminiBody("") + `}`} {
		_, m := postJSON(t, geminiURL(srv.URL, "gemini-2.5-flash", "countTokens"), body, "x-goog-api-key", "k")
		if num(t, m, "totalTokens") != PromptTokens("Be brief.", userMsg) {
			t.Errorf("%s: %v", body, m)
		}
	}
	if r := lastRequest(t, p); r.ProducedPromptTokens != 0 || r.ProducedCompletionTokens != 0 {
		t.Errorf("countTokens billed %+v", r)
	}
}

package mockprovider

import (
	"encoding/json"
	"net/http"
	"strings"
)

// The Gemini native API (https://ai.google.dev/api/generate-content):
// POST /{v1beta|v1}/{models|tunedModels}/{model}:generateContent,
// :streamGenerateContent (?alt=sse for SSE) and :countTokens.

// maxCandidates bounds generationConfig.candidateCount.
const maxCandidates = 8

type geminiContent struct {
	Role  string `json:"role"`
	Parts []struct {
		Text string `json:"text"`
	} `json:"parts"`
}

func (g geminiContent) text() string {
	var b strings.Builder
	for _, p := range g.Parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

type geminiRequest struct {
	Contents          []geminiContent `json:"contents"`
	SystemInstruction *geminiContent  `json:"systemInstruction"`
	GenerationConfig  *struct {
		MaxOutputTokens *int `json:"maxOutputTokens"`
		CandidateCount  *int `json:"candidateCount"`
		ThinkingConfig  *struct {
			ThinkingBudget *int `json:"thinkingBudget"`
		} `json:"thinkingConfig"`
	} `json:"generationConfig"`
}

// geminiPlan is one generateContent call worked out before answering.
type geminiPlan struct {
	model  string
	id     string
	prompt int
	chs    []choice
}

// geminiRoute maps /v1beta/… and Gemini-shaped /v1/… paths.
func geminiRoute(path string) (route, bool) {
	rest, beta := strings.CutPrefix(path, "/v1beta/")
	if !beta {
		rest, _ = strings.CutPrefix(path, "/v1/")
	}
	kind, name, _ := strings.Cut(rest, "/")
	i := strings.LastIndexByte(name, ':')
	handlers := map[string]func(*call){
		"generateContent": (*call).generateContent, "streamGenerateContent": (*call).streamGenerateContent,
		"countTokens": (*call).countTokens,
	}
	var h func(*call)
	if i > 0 && (kind == "models" || kind == "tunedModels") {
		h = handlers[name[i+1:]]
	}
	if h == nil {
		return route{api: apiGemini}, beta
	}
	return route{api: apiGemini, method: http.MethodPost, handle: h, check: (*call).geminiAuth,
		model: name[:i], stream: name[i+1:] == "streamGenerateContent"}, true
}

// geminiAuth wants an API key (x-goog-api-key or ?key=) or an OAuth
// bearer token; without one Google answers 403 PERMISSION_DENIED "Method
// doesn't allow unregistered callers …"
// (https://ai.google.dev/gemini-api/docs/api-key; text as returned, e.g.
// https://github.com/google-gemini/deprecated-generative-ai-python/issues/463).
func (c *call) geminiAuth() bool {
	h := c.r.Header
	if h.Get("X-Goog-Api-Key") != "" || c.r.URL.Query().Get("key") != "" || h.Get("Authorization") != "" {
		return true
	}
	c.geminiError(http.StatusForbidden, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")
	return false
}

// googleStatus is the google.rpc.Code name Google sends with an HTTP
// status (https://cloud.google.com/apis/design/errors#handling_errors).
func googleStatus(code int) string {
	switch code {
	case 400, 413:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 409:
		return "ABORTED"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case 501:
		return "UNIMPLEMENTED"
	case 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	if code >= 500 {
		return "INTERNAL"
	}
	return "FAILED_PRECONDITION"
}

// geminiError writes Google's error shape:
// {"error":{"code":400,"message":"…","status":"INVALID_ARGUMENT"}}
// (https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes).
func (c *call) geminiError(code int, msg string) {
	writeJSON(c.w, code, map[string]any{"error": map[string]any{
		"code": code, "message": msg, "status": googleStatus(code),
	}}, true)
}

// planGemini decodes and validates a generateContent body.
func (c *call) planGemini() (*geminiPlan, bool) {
	var req geminiRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		c.geminiError(http.StatusBadRequest, "Invalid JSON payload received. "+err.Error())
		return nil, false
	}
	if len(req.Contents) == 0 {
		c.geminiError(http.StatusBadRequest, "* GenerateContentRequest.contents: contents is not specified\n")
		return nil, false
	}
	pl := &geminiPlan{model: c.model, id: c.newID("mockresp"), prompt: geminiPromptTokens(req)}
	n, limit, thoughts, ok := c.geminiConfig(req)
	if !ok {
		return nil, false
	}
	user := ""
	for _, ct := range req.Contents {
		if ct.Role != "model" {
			user = ct.text()
		}
	}
	pl.chs = repeat(c.generate(user, thoughts, limit), n)
	return pl, true
}

func geminiPromptTokens(req geminiRequest) int {
	var texts []string
	if req.SystemInstruction != nil {
		texts = append(texts, req.SystemInstruction.text())
	}
	for _, ct := range req.Contents {
		texts = append(texts, ct.text())
	}
	return PromptTokens(texts...)
}

// geminiConfig reads candidateCount, maxOutputTokens and the thinking
// budget. Thinking models think before answering, and maxOutputTokens
// bounds thoughts and answer together: Google's thinking guide for Vertex
// AI counts thinking tokens against the output token limit
// (https://cloud.google.com/vertex-ai/generative-ai/docs/thinking#budget),
// and the Gemini API behaves so — thoughtsTokenCount + candidatesTokenCount
// land on the cap with MAX_TOKENS and often no text
// (https://github.com/googleapis/python-genai/issues/782,
// https://github.com/googleapis/python-genai/issues/2062). Each candidate
// thinks on its own, so thoughts are billed per candidate.
func (c *call) geminiConfig(req geminiRequest) (n, limit, thoughts int, ok bool) {
	n = 1
	if isThinkingModel(c.model) {
		thoughts = reasoningTokens
	}
	g := req.GenerationConfig
	if g == nil {
		return n, 0, thoughts, true
	}
	if g.CandidateCount != nil {
		if n = *g.CandidateCount; n < 1 || n > maxCandidates {
			c.geminiError(http.StatusBadRequest, "candidateCount must be between 1 and 8.")
			return 0, 0, 0, false
		}
	}
	if g.MaxOutputTokens != nil {
		if limit = *g.MaxOutputTokens; !c.checkGeminiMaxOutput(c.model, limit) {
			return 0, 0, 0, false
		}
	}
	if tc := g.ThinkingConfig; tc != nil && tc.ThinkingBudget != nil && thoughts > 0 {
		thoughts, ok = c.thinkingBudget(*tc.ThinkingBudget)
		return n, limit, thoughts, ok
	}
	return n, limit, thoughts, true
}

// thinkingBudget applies thinkingConfig.thinkingBudget: -1 is dynamic, 0
// turns thinking off (except on 2.5 Pro, which "cannot turn off
// thinking"), a positive budget caps the thoughts
// (https://ai.google.dev/gemini-api/docs/thinking#set-budget).
func (c *call) thinkingBudget(budget int) (int, bool) {
	switch {
	case budget == 0 && strings.HasPrefix(c.model, "gemini-2.5-pro"):
		c.geminiError(http.StatusBadRequest, "Budget 0 is invalid. This model only works in thinking mode.")
		return 0, false
	case budget < 0:
		return reasoningTokens, true
	}
	return min(reasoningTokens, budget), true
}

// geminiUsage is usageMetadata: thoughts are billed as output but not
// counted in candidatesTokenCount; totalTokenCount includes them
// (https://ai.google.dev/api/generate-content#UsageMetadata).
func geminiUsage(prompt, candidates, thoughts int) map[string]any {
	u := map[string]any{
		"promptTokenCount":    prompt,
		"totalTokenCount":     prompt + candidates + thoughts,
		"promptTokensDetails": []any{map[string]any{"modality": "TEXT", "tokenCount": prompt}},
	}
	if candidates > 0 {
		u["candidatesTokenCount"] = candidates
	}
	if thoughts > 0 {
		u["thoughtsTokenCount"] = thoughts
	}
	return u
}

// geminiFinish: a cap stop is MAX_TOKENS
// (https://ai.google.dev/api/generate-content#FinishReason).
func geminiFinish(ch choice) string {
	if ch.truncated {
		return "MAX_TOKENS"
	}
	return "STOP"
}

// candidate is one Candidate; a candidate without text (its thoughts used
// the whole cap) has content without parts.
func candidate(i int, text, finish string) map[string]any {
	content := map[string]any{"role": "model"}
	if text != "" {
		content["parts"] = []any{map[string]string{"text": text}}
	}
	cand := map[string]any{"content": content, "index": i}
	if finish != "" {
		cand["finishReason"] = finish
	}
	return cand
}

// geminiResponse is one GenerateContentResponse; usage nil leaves out
// usageMetadata.
func (pl *geminiPlan) response(cands []any, usage map[string]any) map[string]any {
	r := map[string]any{"candidates": cands, "modelVersion": pl.model, "responseId": pl.id}
	if usage != nil {
		r["usageMetadata"] = usage
	}
	return r
}

func (c *call) generateContent() {
	pl, ok := c.planGemini()
	if !ok {
		return
	}
	completion, thoughts := sumCompletion(pl.chs)
	c.bill(pl.prompt, completion, thoughts)
	cands := make([]any, len(pl.chs))
	for i, ch := range pl.chs {
		cands[i] = candidate(i, ch.text(), geminiFinish(ch))
	}
	var usage map[string]any
	if !c.omitUsage {
		usage = geminiUsage(pl.prompt, completion-thoughts, thoughts)
	}
	writeJSON(c.w, http.StatusOK, pl.response(cands, usage), true)
}

// countTokens answers :countTokens (free: nothing is billed). The body is
// {contents} or {generateContentRequest: {contents, systemInstruction}}
// (https://ai.google.dev/api/tokens#method:-models.counttokens).
func (c *call) countTokens() {
	var req struct {
		geminiRequest
		GenerateContentRequest *geminiRequest `json:"generateContentRequest"`
	}
	if err := json.Unmarshal(c.body, &req); err != nil {
		c.geminiError(http.StatusBadRequest, "Invalid JSON payload received. "+err.Error())
		return
	}
	r := req.geminiRequest
	if req.GenerateContentRequest != nil {
		r = *req.GenerateContentRequest
	}
	n := geminiPromptTokens(r)
	writeJSON(c.w, http.StatusOK, map[string]any{
		"totalTokens":         n,
		"promptTokensDetails": []any{map[string]any{"modality": "TEXT", "tokenCount": n}},
	}, true)
}

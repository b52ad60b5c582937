package mockprovider

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// tinyPNG is a valid 1×1 transparent PNG, base64.
const tinyPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

// DefaultEmbeddingDims is the embedding length when `dimensions` is absent.
const DefaultEmbeddingDims = 16

// Models lists the ids GET /v1/models returns. Every endpoint accepts any model.
var Models = []string{"gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3-mini", "text-embedding-3-small", "dall-e-3", "gpt-image-1"}

func (c *call) openAIHeaders() {
	h := c.w.Header()
	h.Set("Openai-Version", "2020-10-01")
	h.Set("Openai-Organization", "mock-org")
	h.Set("Openai-Processing-Ms", "1")
	h.Set("X-Ratelimit-Limit-Requests", "10000")
	h.Set("X-Ratelimit-Remaining-Requests", "9999")
	h.Set("X-Ratelimit-Reset-Requests", "6ms")
	h.Set("X-Ratelimit-Limit-Tokens", "30000000")
	h.Set("X-Ratelimit-Remaining-Tokens", "29999000")
	h.Set("X-Ratelimit-Reset-Tokens", "2ms")
}

type chatRequest struct {
	Model         string    `json:"model"`
	Messages      []message `json:"messages"`
	Stream        bool      `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           *int `json:"max_tokens"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
}

type chatBase struct {
	ID                string `json:"id"`
	Object            string `json:"object"`
	Created           int64  `json:"created"`
	Model             string `json:"model"`
	ServiceTier       string `json:"service_tier"`
	SystemFingerprint string `json:"system_fingerprint"`
}

type chatMessage struct {
	Role        string `json:"role"`
	Content     string `json:"content"`
	Refusal     any    `json:"refusal"`
	Annotations []any  `json:"annotations"`
}

type chatChoice struct {
	Index        int          `json:"index"`
	Message      *chatMessage `json:"message,omitempty"`
	Delta        any          `json:"delta,omitempty"`
	Logprobs     any          `json:"logprobs"`
	FinishReason any          `json:"finish_reason"`
}

type chatCompletion struct {
	chatBase
	Choices []chatChoice `json:"choices"`
	Usage   *usage       `json:"usage"`
}

// chatChunk carries "usage": null on every chunk when include_usage is set
// (as OpenAI does) and no usage member otherwise.
type chatChunk struct {
	chatBase
	Choices   []chatChoice
	Usage     *usage
	withUsage bool
}

func (c chatChunk) MarshalJSON() ([]byte, error) {
	type plain struct {
		chatBase
		Choices []chatChoice `json:"choices"`
	}
	type withUsage struct {
		chatBase
		Choices []chatChoice `json:"choices"`
		Usage   *usage       `json:"usage"`
	}
	if c.withUsage {
		return json.Marshal(withUsage{c.chatBase, c.Choices, c.Usage})
	}
	return json.Marshal(plain{c.chatBase, c.Choices})
}

type usage struct {
	PromptTokens            int            `json:"prompt_tokens"`
	CompletionTokens        int            `json:"completion_tokens"`
	TotalTokens             int            `json:"total_tokens"`
	PromptTokensDetails     map[string]int `json:"prompt_tokens_details"`
	CompletionTokensDetails map[string]int `json:"completion_tokens_details"`
}

func newUsage(prompt, completion int) usage {
	return usage{
		PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion,
		PromptTokensDetails: map[string]int{"cached_tokens": 0, "audio_tokens": 0},
		CompletionTokensDetails: map[string]int{
			"reasoning_tokens": 0, "audio_tokens": 0,
			"accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
		},
	}
}

func (c *call) chatCompletions() {
	var req chatRequest
	if !c.decode(apiOpenAI, &req) {
		return
	}
	switch {
	case req.Model == "":
		c.fail(apiOpenAI, http.StatusBadRequest, "you must provide a model parameter")
		return
	case len(req.Messages) == 0:
		c.fail(apiOpenAI, http.StatusBadRequest, "[] is too short - 'messages'")
		return
	case req.StreamOptions != nil && !req.Stream:
		c.fail(apiOpenAI, http.StatusBadRequest, "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
		return
	}
	maxTokens := 0
	for _, m := range []*int{req.MaxCompletionTokens, req.MaxTokens} {
		if m != nil {
			if *m < 1 {
				c.fail(apiOpenAI, http.StatusBadRequest, "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got "+strconv.Itoa(*m)+" instead.")
				return
			}
			if maxTokens == 0 || *m < maxTokens {
				maxTokens = *m
			}
		}
	}
	texts := make([]string, 0, len(req.Messages))
	for _, m := range req.Messages {
		texts = append(texts, contentText(m.Content))
	}
	prompt := PromptTokens(texts...)
	tokens, truncated := CompletionTokens(lastUser(req.Messages), c.chunks, maxTokens)
	finish := "stop"
	if truncated {
		finish = "length"
	}
	id := c.newID("chatcmpl-mock")
	created := c.p.opts.Now().Unix()
	c.openAIHeaders()

	base := chatBase{ID: id, Created: created, Model: req.Model, ServiceTier: "default", SystemFingerprint: "fp_mock"}
	if c.hugeBytes > 0 {
		c.hugeChat(base, req.Stream, req.StreamOptions != nil && req.StreamOptions.IncludeUsage, prompt)
		return
	}
	if !req.Stream {
		u := newUsage(prompt, len(tokens))
		base.Object = "chat.completion"
		writeJSON(c.w, http.StatusOK, chatCompletion{
			chatBase: base,
			Choices: []chatChoice{{
				Message:      &chatMessage{Role: "assistant", Content: strings.Join(tokens, ""), Annotations: []any{}},
				FinishReason: finish,
			}},
			Usage: &u,
		}, true)
		return
	}

	base.Object = "chat.completion.chunk"
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	chunk := func(delta map[string]any, finish any) chatChunk {
		return chatChunk{chatBase: base,
			Choices: []chatChoice{{Delta: delta, FinishReason: finish}}, withUsage: includeUsage}
	}
	s := c.startSSE()
	defer s.done()
	if !s.event("", chunk(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil)) {
		return
	}
	for i, t := range c.contentTokens(tokens) {
		if !s.beforeChunk(i) || !s.event("", chunk(map[string]any{"content": t}, nil)) {
			return
		}
	}
	if !s.event("", chunk(map[string]any{}, finish)) {
		return
	}
	if includeUsage {
		u := newUsage(prompt, len(tokens))
		if !s.event("", chatChunk{chatBase: base, Choices: []chatChoice{}, Usage: &u, withUsage: true}) {
			return
		}
	}
	s.event("", "[DONE]")
}

// embeddingInputs parses `input`: a string, strings, token ids, or arrays of
// token ids. It returns one key per input and the prompt token count.
func embeddingInputs(raw json.RawMessage) (inputs []string, tokens int, ok bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}, PromptTokens(s), s != ""
	}
	var ss []string
	if json.Unmarshal(raw, &ss) == nil && len(ss) > 0 {
		return ss, PromptTokens(ss...), true
	}
	var ids []int
	if json.Unmarshal(raw, &ids) == nil && len(ids) > 0 {
		b, _ := json.Marshal(ids)
		return []string{string(b)}, len(ids), true
	}
	var idss [][]int
	if json.Unmarshal(raw, &idss) == nil && len(idss) > 0 {
		for _, ids := range idss {
			b, _ := json.Marshal(ids)
			inputs = append(inputs, string(b))
			tokens += len(ids)
		}
		return inputs, tokens, true
	}
	return nil, 0, false
}

// Embedding returns the mock's deterministic unit vector for input.
func Embedding(input string, dims int) []float32 {
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		h := fnv.New64a()
		h.Write([]byte(input))
		h.Write([]byte{byte(i), byte(i >> 8)})
		x := float64(h.Sum64()%2001)/1000 - 1 // [-1, 1]
		v[i] = float32(x)
		norm += x * x
	}
	if norm == 0 {
		v[0], norm = 1, 1
	}
	n := math.Sqrt(norm)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

func (c *call) embeddings() {
	var req struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
		Dimensions     *int            `json:"dimensions"`
	}
	if !c.decode(apiOpenAI, &req) {
		return
	}
	if req.Model == "" {
		c.fail(apiOpenAI, http.StatusBadRequest, "you must provide a model parameter")
		return
	}
	inputs, tokens, ok := embeddingInputs(req.Input)
	if !ok || len(inputs) > 2048 {
		c.fail(apiOpenAI, http.StatusBadRequest, "'input' : input must be a non-empty string, array of strings or array of token arrays (at most 2048)")
		return
	}
	dims := DefaultEmbeddingDims
	if req.Dimensions != nil {
		if *req.Dimensions < 1 || *req.Dimensions > 4096 {
			c.fail(apiOpenAI, http.StatusBadRequest, "Invalid 'dimensions': expected 1–4096")
			return
		}
		dims = *req.Dimensions
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64" {
		c.fail(apiOpenAI, http.StatusBadRequest, "Invalid 'encoding_format': expected 'float' or 'base64'")
		return
	}
	data := make([]any, 0, len(inputs))
	for i, in := range inputs {
		vec := Embedding(in, dims)
		var emb any = vec
		if req.EncodingFormat == "base64" {
			b := make([]byte, 4*len(vec))
			for j, f := range vec {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(f))
			}
			emb = base64.StdEncoding.EncodeToString(b)
		}
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": emb})
	}
	c.openAIHeaders()
	writeJSON(c.w, http.StatusOK, map[string]any{
		"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	}, true)
}

func (c *call) images() {
	var req struct {
		Model          string `json:"model"`
		Prompt         string `json:"prompt"`
		N              *int   `json:"n"`
		ResponseFormat string `json:"response_format"`
	}
	if !c.decode(apiOpenAI, &req) {
		return
	}
	if req.Prompt == "" {
		c.fail(apiOpenAI, http.StatusBadRequest, "Missing required parameter: 'prompt'.")
		return
	}
	n := 1
	if req.N != nil {
		if *req.N < 1 || *req.N > 10 {
			c.fail(apiOpenAI, http.StatusBadRequest, "Invalid 'n': expected 1–10")
			return
		}
		n = *req.N
	}
	b64 := req.ResponseFormat == "b64_json" || strings.HasPrefix(req.Model, "gpt-image")
	data := make([]any, 0, n)
	for i := 0; i < n; i++ {
		if b64 {
			data = append(data, map[string]any{"b64_json": tinyPNG})
		} else {
			data = append(data, map[string]any{
				"url":            "https://mock.invalid/images/" + c.newID("img-") + ".png",
				"revised_prompt": req.Prompt,
			})
		}
	}
	resp := map[string]any{"created": c.p.opts.Now().Unix(), "data": data}
	if strings.HasPrefix(req.Model, "gpt-image") {
		in := PromptTokens(req.Prompt)
		resp["usage"] = map[string]any{
			"input_tokens": in, "output_tokens": 272 * n, "total_tokens": in + 272*n,
			"input_tokens_details": map[string]int{"text_tokens": in, "image_tokens": 0},
		}
	}
	c.openAIHeaders()
	writeJSON(c.w, http.StatusOK, resp, true)
}

func modelObject(id string) map[string]any {
	owner := "openai"
	if strings.HasPrefix(id, "claude") {
		owner = "anthropic"
	}
	return map[string]any{"id": id, "object": "model", "created": 1715367049, "owned_by": owner}
}

func (c *call) models() {
	data := make([]any, 0, len(Models))
	for _, id := range Models {
		data = append(data, modelObject(id))
	}
	c.openAIHeaders()
	writeJSON(c.w, http.StatusOK, map[string]any{"object": "list", "data": data}, true)
}

func (c *call) model(id string) {
	c.openAIHeaders()
	writeJSON(c.w, http.StatusOK, modelObject(id), true)
}

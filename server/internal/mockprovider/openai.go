package mockprovider

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
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
	Usage   *usage       `json:"usage,omitempty"`
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

// newUsage is OpenAI's chat usage; reasoning tokens are part of
// completion and broken out in completion_tokens_details
// (https://platform.openai.com/docs/guides/reasoning#controlling-costs).
func newUsage(prompt, completion, reasoning int) usage {
	return usage{
		PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion,
		PromptTokensDetails: map[string]int{"cached_tokens": 0, "audio_tokens": 0},
		CompletionTokensDetails: map[string]int{
			"reasoning_tokens": reasoning, "audio_tokens": 0,
			"accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
		},
	}
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
	if !c.decode(apiOpenAI, &req) || !c.needModel(&req.Model) {
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
	c.bill(tokens, 0, 0)
	resp := map[string]any{"object": "list", "data": data, "model": req.Model}
	if !c.omitUsage {
		resp["usage"] = map[string]int{"prompt_tokens": tokens, "total_tokens": tokens}
	}
	writeJSON(c.w, http.StatusOK, resp, true)
}

// needModel applies the model the path picked (an Azure deployment's,
// which wins over the body) and answers 400 when there is none.
func (c *call) needModel(model *string) bool {
	if c.model != "" {
		*model = c.model
	}
	if *model == "" {
		c.openAIError(http.StatusBadRequest, "invalid_request_error", "model", "",
			"you must provide a model parameter")
		return false
	}
	return true
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

// getModel answers GET /v1/models/{id}.
func (c *call) getModel() {
	c.openAIHeaders()
	writeJSON(c.w, http.StatusOK, modelObject(strings.TrimPrefix(c.r.URL.Path, "/v1/models/")), true)
}

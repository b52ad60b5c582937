package mockprovider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// The Responses API, POST /v1/responses and GET /v1/responses/{id}
// (https://platform.openai.com/docs/api-reference/responses; Response,
// ResponseUsage and the Response*Event schemas in
// https://github.com/openai/openai-openapi openapi.yaml).

// minOutputTokens: "Invalid 'max_output_tokens': integer below minimum
// value. Expected a value >= 16, but got 10 instead." (error as returned
// by the API, https://github.com/vectorize-io/hindsight/issues/58).
const minOutputTokens = 16

type responsesRequest struct {
	Model              string          `json:"model"`
	Input              json.RawMessage `json:"input"`
	Instructions       json.RawMessage `json:"instructions"`
	MaxOutputTokens    *int            `json:"max_output_tokens"`
	Stream             bool            `json:"stream"`
	Store              *bool           `json:"store"`
	PreviousResponseID string          `json:"previous_response_id"`
	Conversation       json.RawMessage `json:"conversation"`
}

// rsPlan is one Responses API call worked out before answering.
type rsPlan struct {
	req      responsesRequest
	id       string
	created  int64
	convID   string
	store    bool
	stored   int // context tokens of the previous response chain or conversation
	newInput int // tokens of this request's input items (what the chain keeps)
	input    int // billed input: stored context + input items + instructions
	ch       choice
}

func (pl *rsPlan) output() int { return pl.ch.completion() }

func (pl *rsPlan) status() string {
	if pl.ch.truncated {
		return "incomplete"
	}
	return "completed"
}

func (c *call) responses() {
	var req responsesRequest
	if !c.decode(apiOpenAI, &req) || !c.needModel(&req.Model) {
		return
	}
	pl, ok := c.planResponse(req)
	if !ok {
		return
	}
	c.openAIHeaders()
	if req.Stream {
		c.responseStream(pl)
		return
	}
	c.bill(pl.input, pl.output(), pl.ch.reasoning)
	obj := c.responseObject(pl, pl.status(), c.outputItems(pl, true), c.responsesUsage(pl))
	c.keep(pl, obj)
	writeJSON(c.w, http.StatusOK, obj, true)
}

// planResponse validates req and counts its context, answering errors.
func (c *call) planResponse(req responsesRequest) (*rsPlan, bool) {
	if req.Input == nil {
		c.openAIError(http.StatusBadRequest, "invalid_request_error", "input", "missing_required_parameter",
			"Missing required parameter: 'input'.")
		return nil, false
	}
	if m := req.MaxOutputTokens; m != nil && *m < minOutputTokens {
		c.openAIError(http.StatusBadRequest, "invalid_request_error", "max_output_tokens", "integer_below_min_value",
			fmt.Sprintf("Invalid 'max_output_tokens': integer below minimum value. Expected a value >= %d, but got %d instead.", minOutputTokens, *m))
		return nil, false
	}
	pl := &rsPlan{req: req, id: c.newID("resp_mock"), created: c.p.opts.Now().Unix(),
		store: req.Store == nil || *req.Store, convID: conversationID(req.Conversation)}
	var ok bool
	if pl.stored, ok = c.storedContext(pl); !ok {
		return nil, false
	}
	texts, user := inputTexts(req.Input)
	pl.newInput = PromptTokens(texts...)
	pl.input = pl.stored + PromptTokens(append(texts, contentText(req.Instructions))...)
	pl.ch = c.generate(user, openAIReasoningTokens(req.Model), deref(req.MaxOutputTokens))
	return pl, true
}

// storedContext returns the context tokens of the previous response chain
// or conversation, answering OpenAI's errors for unknown ids.
func (c *call) storedContext(pl *rsPlan) (int, bool) {
	prev := pl.req.PreviousResponseID
	switch {
	case prev != "" && pl.convID != "":
		c.openAIError(http.StatusBadRequest, "invalid_request_error", "conversation", "mutually_exclusive_parameters",
			"Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.")
		return 0, false
	case prev != "":
		r, ok := c.p.store.response(prev)
		if !ok {
			// Status 400 with code previous_response_not_found, as the API
			// answers (https://github.com/Soju06/codex-lb/issues/853,
			// https://github.com/bigduu/Bamboo-agent/pull/513).
			c.openAIError(http.StatusBadRequest, "invalid_request_error", "previous_response_id", "previous_response_not_found",
				fmt.Sprintf("Previous response with id '%s' not found.", prev))
		}
		return r.context, ok
	case pl.convID != "":
		t, ok := c.p.store.conversation(pl.convID)
		if !ok {
			c.openAIError(http.StatusNotFound, "invalid_request_error", "conversation", "",
				fmt.Sprintf("Conversation with id '%s' not found.", pl.convID))
		}
		return t, ok
	}
	return 0, true
}

// conversationID reads `conversation`: an id string or {"id": …}.
func conversationID(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &obj)
	return obj.ID
}

// inputTexts returns the texts of `input` (a string or a list of items)
// and the last user text, which the completion echoes.
func inputTexts(raw json.RawMessage) (texts []string, user string) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}, s
	}
	var items []message
	_ = json.Unmarshal(raw, &items)
	for _, it := range items {
		texts = append(texts, contentText(it.Content))
	}
	return texts, lastUser(items)
}

// keep stores the finished response and grows its conversation.
func (c *call) keep(pl *rsPlan, obj map[string]any) {
	turn := pl.newInput + pl.output()
	if pl.convID != "" {
		c.p.store.growConversation(pl.convID, turn)
	}
	if pl.store {
		c.p.store.putResponse(pl.id, storedResponse{context: pl.stored + turn, object: obj})
	}
}

// getResponse answers GET /v1/responses/{id}.
func (c *call) getResponse() {
	id := strings.TrimPrefix(c.r.URL.Path, "/v1/responses/")
	r, ok := c.p.store.response(id)
	if !ok {
		c.openAIError(http.StatusNotFound, "invalid_request_error", "", "",
			fmt.Sprintf("Response with id '%s' not found.", id))
		return
	}
	c.openAIHeaders()
	writeJSON(c.w, http.StatusOK, r.object, true)
}

// responsesUsage is ResponseUsage: reasoning tokens are part of
// output_tokens and broken out in output_tokens_details.
func responsesUsage(input, output, reasoning int) map[string]any {
	return map[string]any{
		"input_tokens":          input,
		"input_tokens_details":  map[string]int{"cached_tokens": 0, "cache_write_tokens": 0},
		"output_tokens":         output,
		"output_tokens_details": map[string]int{"reasoning_tokens": reasoning},
		"total_tokens":          input + output,
	}
}

// responsesUsage of a plan; nil (JSON null) with x-mock-omit-usage.
func (c *call) responsesUsage(pl *rsPlan) any {
	if c.omitUsage {
		return nil
	}
	return responsesUsage(pl.input, pl.output(), pl.ch.reasoning)
}

// responseObject is the Response object with the given status and output.
func (c *call) responseObject(pl *rsPlan, status string, output []any, usage any) map[string]any {
	var incomplete, conv, completedAt, prev, instructions any
	switch status {
	case "incomplete":
		incomplete = map[string]any{"reason": "max_output_tokens"}
	case "completed":
		completedAt = c.p.opts.Now().Unix()
	}
	if pl.convID != "" {
		conv = map[string]any{"id": pl.convID}
	}
	if pl.req.PreviousResponseID != "" {
		prev = pl.req.PreviousResponseID
	}
	if len(pl.req.Instructions) > 0 {
		instructions = pl.req.Instructions
	}
	return map[string]any{
		"id": pl.id, "object": "response", "created_at": pl.created, "status": status,
		"completed_at": completedAt, "background": false, "error": nil, "incomplete_details": incomplete,
		"instructions": instructions, "max_output_tokens": pl.req.MaxOutputTokens, "model": pl.req.Model,
		"output": output, "parallel_tool_calls": true, "previous_response_id": prev, "conversation": conv,
		"reasoning": map[string]any{"effort": nil, "summary": nil}, "service_tier": "default", "store": pl.store,
		"temperature": 1.0, "text": map[string]any{"format": map[string]string{"type": "text"}, "verbosity": "medium"},
		"tool_choice": "auto", "tools": []any{}, "top_p": 1.0, "truncation": "disabled",
		"usage": usage, "user": nil, "metadata": map[string]any{},
	}
}

// outputItems are the output of a finished response: a reasoning item
// when the model reasoned, then the assistant message unless the cap left
// no text.
func (c *call) outputItems(pl *rsPlan, done bool) []any {
	var out []any
	if pl.ch.reasoning > 0 {
		out = append(out, reasoningItem(pl))
	}
	if len(pl.ch.tokens) > 0 || !pl.ch.truncated {
		out = append(out, messageItem(pl, pl.ch.text(), done))
	}
	return out
}

func reasoningItem(pl *rsPlan) map[string]any {
	return map[string]any{"id": "rs_" + strings.TrimPrefix(pl.id, "resp_"), "type": "reasoning", "summary": []any{}}
}

func messageItem(pl *rsPlan, text string, done bool) map[string]any {
	status, content := "in_progress", []any{}
	if done {
		status = pl.status()
		content = []any{outputText(text)}
	}
	return map[string]any{"id": messageID(pl), "type": "message", "status": status, "role": "assistant", "content": content}
}

func messageID(pl *rsPlan) string { return "msg_" + strings.TrimPrefix(pl.id, "resp_") }

func outputText(text string) map[string]any {
	return map[string]any{"type": "output_text", "text": text, "annotations": []any{}, "logprobs": []any{}}
}

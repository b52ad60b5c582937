package streamedit

import (
	"strconv"
)

// Usage is what the relay charged a stream it ended.
type Usage struct{ Prompt, Completion int64 }

// End returns the events that end the stream the way its provider ends
// an answer cut by its output limit, after which the client gets nothing
// more. includeUsage says whether the client itself asked for a usage
// chunk (OpenAI chat and completions). The shapes follow each provider's
// own length stop:
//   - OpenAI chat/completions: a chunk per choice with finish_reason
//     "length", the usage chunk if asked, then "data: [DONE]"
//     (platform.openai.com/docs/api-reference/chat-streaming);
//   - Responses API: "response.incomplete" with incomplete_details.reason
//     "max_output_tokens" (…/responses-streaming/response/incomplete);
//   - Anthropic: content_block_stop for an open block, message_delta with
//     stop_reason "max_tokens", message_stop
//     (docs.anthropic.com/en/docs/build-with-claude/streaming);
//   - Gemini: a last chunk whose candidates finish with "MAX_TOKENS",
//     with usageMetadata (ai.google.dev/api/generate-content#FinishReason).
func (e *Editor) End(u Usage, includeUsage bool) []byte {
	switch e.dialect {
	case Chat, Completions:
		return e.endChat(u, includeUsage)
	case Responses:
		return e.endResponses(u)
	case Messages:
		return e.endMessages(u)
	case Gemini:
		return e.endGemini(u)
	}
	return nil
}

func (e *Editor) endChat(u Usage, includeUsage bool) []byte {
	object := e.object
	if object == nil {
		object = []byte(`"chat.completion.chunk"`)
		if e.dialect == Completions {
			object = []byte(`"text_completion"`)
		}
	}
	var out []byte
	for i := int64(0); i < e.answers; i++ {
		out = append(out, "data: "...)
		out = e.chunkHead(out, object)
		out = append(out, `"choices":[{"index":`...)
		out = strconv.AppendInt(out, i, 10)
		if e.dialect == Completions {
			out = append(out, `,"text":"","logprobs":null,"finish_reason":"length"}]`...)
		} else {
			out = append(out, `,"delta":{},"logprobs":null,"finish_reason":"length"}]`...)
		}
		if includeUsage {
			out = append(out, `,"usage":null`...)
		}
		out = append(out, "}\n\n"...)
	}
	if includeUsage {
		out = append(out, "data: "...)
		out = e.chunkHead(out, object)
		out = append(out, `"choices":[],"usage":{"prompt_tokens":`...)
		out = appendCounts(out, u, `,"completion_tokens":`, `,"total_tokens":`)
		out = append(out, "}}\n\n"...)
	}
	return append(out, "data: [DONE]\n\n"...)
}

// chunkHead writes `{"id":…,"object":…,"created":…,"model":…,` with what
// the stream said, so the chunk joins the stream it ends.
func (e *Editor) chunkHead(out, object []byte) []byte {
	out = append(out, '{')
	for _, m := range []struct {
		name  string
		value []byte
	}{{"id", e.id}, {"object", object}, {"created", e.created}, {"model", e.model}, {"system_fingerprint", e.fingerprint}} {
		if m.value != nil {
			out = append(append(append(append(out, '"'), m.name...), `":`...), m.value...)
			out = append(out, ',')
		}
	}
	return out
}

func (e *Editor) endResponses(u Usage) []byte {
	out := []byte(`event: response.incomplete` + "\n" + `data: {"type":"response.incomplete","sequence_number":`)
	out = strconv.AppendInt(out, e.seq+1, 10)
	out = append(out, `,"response":{`...)
	if e.id != nil {
		out = append(append(append(out, `"id":`...), e.id...), ',')
	}
	out = append(out, `"object":"response",`...)
	if e.created != nil {
		out = append(append(append(out, `"created_at":`...), e.created...), ',')
	}
	if e.model != nil {
		out = append(append(append(out, `"model":`...), e.model...), ',')
	}
	out = append(out, `"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[],"usage":{"input_tokens":`...)
	out = appendCounts(out, u, `,"output_tokens":`, `,"total_tokens":`)
	return append(out, "}}}\n\n"...)
}

func (e *Editor) endMessages(u Usage) []byte {
	var out []byte
	if e.openBlock >= 0 {
		out = append(out, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":"...)
		out = strconv.AppendInt(out, e.openBlock, 10)
		out = append(out, "}\n\n"...)
	}
	out = append(out, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":"...)
	out = strconv.AppendInt(out, u.Completion, 10)
	out = append(out, "}}\n\n"...)
	return append(out, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...)
}

func (e *Editor) endGemini(u Usage) []byte {
	out := []byte(`data: {"candidates":[`)
	for i := int64(0); i < e.answers; i++ {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"MAX_TOKENS","index":`...)
		out = strconv.AppendInt(out, i, 10)
		out = append(out, '}')
	}
	out = append(out, `],"usageMetadata":{"promptTokenCount":`...)
	out = appendCounts(out, u, `,"candidatesTokenCount":`, `,"totalTokenCount":`)
	out = append(out, '}')
	if e.model != nil {
		out = append(append(out, `,"modelVersion":`...), e.model...)
	}
	if e.id != nil {
		out = append(append(out, `,"responseId":`...), e.id...)
	}
	return append(out, "}\r\n\r\n"...)
}

func appendCounts(out []byte, u Usage, completionKey, totalKey string) []byte {
	out = strconv.AppendInt(out, u.Prompt, 10)
	out = append(out, completionKey...)
	out = strconv.AppendInt(out, u.Completion, 10)
	out = append(out, totalKey...)
	return strconv.AppendInt(out, u.Prompt+u.Completion, 10)
}

package usage

import (
	"bytes"
	"encoding/json"
	"strings"
)

// openAIChunk is the part of an OpenAI-compatible stream event the meter
// reads: chat and legacy completion chunks, and Responses API events.
type openAIChunk struct {
	Type     string       `json:"type"`  // Responses API event type
	Delta    string       `json:"delta"` // Responses API text delta
	Usage    *tokenCounts `json:"usage"`
	Response struct {
		Usage *tokenCounts `json:"usage"`
	} `json:"response"`
	Choices []openAIChoice `json:"choices"`
}

type openAIChoice struct {
	Text  string `json:"text"` // legacy completions
	Delta struct {
		Content          string `json:"content"`
		ReasoningContent string `json:"reasoning_content"`
		Reasoning        string `json:"reasoning"`
		Refusal          string `json:"refusal"`
		ToolCalls        []struct {
			Function openAIArguments `json:"function"`
		} `json:"tool_calls"`
		FunctionCall openAIArguments `json:"function_call"`
	} `json:"delta"`
}

type openAIArguments struct {
	Arguments string `json:"arguments"`
}

var (
	doneMarker = []byte("[DONE]")
	// An event holding none of these keys carries nothing the meter
	// reads; it is not decoded.
	openAIKeys = [][]byte{[]byte(`"usage"`), []byte(`"delta"`), []byte(`"text"`), []byte(`"response`)}
)

func (m *Meter) observeOpenAI(data []byte) {
	if bytes.Equal(bytes.TrimSpace(data), doneMarker) {
		m.done = true
		return
	}
	if !containsAny(data, openAIKeys) {
		return
	}
	var c openAIChunk
	// Type mismatches (a null here, an array there) skip only that field.
	_ = json.Unmarshal(data, &c)
	m.openAIUsage(c.Usage)
	m.openAIUsage(c.Response.Usage)
	m.openAIEstimate(&c)
	switch c.Type {
	case "response.completed", "response.incomplete", "response.failed":
		m.done = true
	}
}

// openAIUsage keeps the latest usage object: some providers repeat a
// running total in every chunk, OpenAI sends one final chunk.
func (m *Meter) openAIUsage(t *tokenCounts) {
	if t == nil {
		return
	}
	if u, ok := t.openAI(); ok {
		m.prompt, m.completion, m.reported = u.Prompt, u.Completion, true
	}
}

func (m *Meter) openAIEstimate(c *openAIChunk) {
	// Audio deltas are base64, not text: bytes/4 would mean nothing.
	if strings.HasSuffix(c.Type, ".delta") && !strings.Contains(c.Type, "audio") {
		m.addEstimate(c.Delta)
	}
	for i := range c.Choices {
		ch := &c.Choices[i]
		m.addEstimate(ch.Text)
		m.addEstimate(ch.Delta.Content)
		m.addEstimate(ch.Delta.ReasoningContent)
		m.addEstimate(ch.Delta.Reasoning)
		m.addEstimate(ch.Delta.Refusal)
		m.addEstimate(ch.Delta.FunctionCall.Arguments)
		for _, tc := range ch.Delta.ToolCalls {
			m.addEstimate(tc.Function.Arguments)
		}
	}
}

func containsAny(data []byte, keys [][]byte) bool {
	for _, k := range keys {
		if bytes.Contains(data, k) {
			return true
		}
	}
	return false
}

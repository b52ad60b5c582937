package usage

import (
	"strings"
	"testing"
)

func BenchmarkMeterOpenAIChunk(b *testing.B) {
	chunk := []byte(`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":{"content":" help you today?"},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n")
	m := NewMeter(OpenAI)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.Write(chunk)
	}
}

func BenchmarkMeterAnthropicPing(b *testing.B) {
	chunk := []byte("event: ping\ndata: {\"type\": \"ping\"}\n\n")
	m := NewMeter(Anthropic)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.Write(chunk)
	}
}

func BenchmarkFromJSONEmbeddings(b *testing.B) {
	vec := "[" + strings.Repeat("-0.0023064255,", 1535) + "0.1]"
	var sb strings.Builder
	sb.WriteString(`{"object":"list","data":[`)
	for i := range 100 {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`{"object":"embedding","index":0,"embedding":` + vec + `}`)
	}
	sb.WriteString(`],"model":"text-embedding-3-small","usage":{"prompt_tokens":800,"total_tokens":800}}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = FromJSON(OpenAI, body)
	}
}

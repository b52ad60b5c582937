package usage

import (
	"encoding/json"
	"strings"
	"testing"
)

// Realistic events, one of each kind a stream is mostly made of.
var (
	openAIContentChunk = []byte(`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":{"content":" help you today?"},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n")
	openAIUsageChunk   = []byte(`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}` + "\n\n")
	openAIToolChunk    = []byte(`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"location\": \"San"}}]},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n")
	responsesDelta     = []byte("event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":3,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\" there!\"}\n\n")
	anthropicDelta     = []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\" the weather for San Francisco, CA:\"}}\n\n")
	geminiChunk        = []byte("data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" 127 + 131 + 137 + 139 + 149\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 51,\"candidatesTokenCount\": 620,\"totalTokenCount\": 1905,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 51}],\"thoughtsTokenCount\": 1234},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"cjGwadCGE7yvnsEP3tfsiQk\"}\r\n\r\n")
	anthropicStartEv   = []byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":472,\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":2000,\"output_tokens\":2}}}\n\n")
)

func benchmarkMeter(b *testing.B, f Format, chunk []byte) {
	m := NewMeter(f)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.Write(chunk)
	}
}

func BenchmarkMeterOpenAIChunk(b *testing.B) {
	b.Run("content", func(b *testing.B) { benchmarkMeter(b, OpenAI, openAIContentChunk) })
	b.Run("final-usage", func(b *testing.B) { benchmarkMeter(b, OpenAI, openAIUsageChunk) })
	b.Run("tool-call", func(b *testing.B) { benchmarkMeter(b, OpenAI, openAIToolChunk) })
	b.Run("responses-delta", func(b *testing.B) { benchmarkMeter(b, OpenAI, responsesDelta) })
}

func BenchmarkMeterAnthropicEvent(b *testing.B) {
	b.Run("content_block_delta", func(b *testing.B) { benchmarkMeter(b, Anthropic, anthropicDelta) })
	b.Run("message_start", func(b *testing.B) { benchmarkMeter(b, Anthropic, anthropicStartEv) })
}

func BenchmarkMeterGeminiChunk(b *testing.B) { benchmarkMeter(b, Gemini, geminiChunk) }

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

// bigBodies are 10 MB bodies of the kinds that outgrow the relay's
// buffer: embeddings (numbers) and a base64 image (one long string).
func bigBodies() map[string][]byte {
	vec := "[" + strings.Repeat("-0.0023064255,", 1535) + "0.1]"
	var sb strings.Builder
	sb.WriteString(`{"object":"list","data":[`)
	for i := 0; sb.Len() < 10<<20; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`{"object":"embedding","index":0,"embedding":` + vec + `}`)
	}
	sb.WriteString(`],"model":"text-embedding-3-small","usage":{"prompt_tokens":800,"total_tokens":800}}`)
	image := `{"created":1713833628,"data":[{"b64_json":"` + strings.Repeat("iVBORw0KGgoAAAANSUhEUgAA", 10<<20/24) +
		`"}],"usage":{"total_tokens":100,"input_tokens":50,"output_tokens":50}}`
	return map[string][]byte{"embeddings": []byte(sb.String()), "b64-image": []byte(image)}
}

// BenchmarkBodyMeter10MB reads 10 MB bodies in the relay's 32 KiB
// writes. For comparison, the FromJSON it replaced searched a body held
// whole in memory from its end, reading only its last bytes (~450 ns for
// either body); what the relay paid per byte was holding the body, in
// the same 32 KiB writes: 1.0 to 1.5 GB/s for both bodies here (and
// bodies over 8 MiB, like these, were never metered). Its fallback,
// decoding the whole body (Reference below), ran at 120 to 160 MB/s.
// BodyMeter, on the same machine: ~1.3 GB/s (embeddings), ~2 GB/s
// (base64 image), in constant memory.
func BenchmarkBodyMeter10MB(b *testing.B) {
	for _, name := range []string{"embeddings", "b64-image"} {
		body := bigBodies()[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				m := NewBodyMeter(OpenAI)
				for p := body; len(p) > 0; {
					n := min(32<<10, len(p))
					_, _ = m.Write(p[:n])
					p = p[n:]
				}
				if !m.Usage().Reported {
					b.Fatal("no usage")
				}
			}
		})
		b.Run(name+"/FromJSON", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				_ = FromJSON(OpenAI, body)
			}
		})
		b.Run(name+"/Reference", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				_ = referenceBodyUsage(OpenAI, body)
			}
		})
		b.Run(name+"/json.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				_ = json.Valid(body)
			}
		})
	}
}

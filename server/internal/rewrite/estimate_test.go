package rewrite

import (
	"fmt"
	"strings"
	"testing"
)

func estimate(body string) int64 { return EstimatePromptTokens([]byte(body)) }

func TestEstimateCountsEnglishAtTwoBytesPerTokenPlusOverheads(t *testing.T) {
	text := "The quick brown fox jumps over the lazy dog." // 44 bytes, ~10 real tokens
	body := `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"` + text + `"}],"temperature":1}`
	// "system"+"Be brief." = 15, "user"+text = 48: 63 bytes -> 32, 2 messages, request.
	if got, want := estimate(body), int64(32+2*8+16); got != want {
		t.Errorf("estimate = %d, want %d", got, want)
	}
}

func TestEstimateCountsChineseByUTF8BytesEvenWhenEscaped(t *testing.T) {
	text := strings.Repeat("今天天气很好，我们去公园散步吧。", 20) // 300 characters
	raw := estimate(`{"messages":[{"role":"user","content":"` + text + `"}]}`)
	escaped := estimate(`{"messages":[{"role":"user","content":"` + asciiEscape(text) + `"}]}`)
	if raw != escaped {
		t.Errorf("raw %d != escaped %d", raw, escaped)
	}
	// Even a tokenizer spending one token per character stays below.
	if raw < 300 {
		t.Errorf("estimate %d under one token per character", raw)
	}
}

// asciiEscape writes s as Python's json.dumps does by default.
func asciiEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
			continue
		}
		fmt.Fprintf(&b, "\\u%04x", r)
	}
	return b.String()
}

func TestEstimateCountsImagesAtAFixedCostNotTheirBytes(t *testing.T) {
	b64 := strings.Repeat("iVBORw0KGgo", 10000)
	cases := map[string]string{
		"openai image_url": `{"messages":[{"role":"user","content":[{"type":"text","text":"abcd"},{"type":"image_url","image_url":{"url":"data:image/png;base64,` + b64 + `","detail":"high"}}]}]}`,
		"anthropic image":  `{"messages":[{"role":"user","content":[{"type":"text","text":"abcd"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + b64 + `"}}]}]}`,
		"responses input":  `{"input":[{"role":"user","content":[{"type":"input_text","text":"abcd"},{"type":"input_image","image_url":"data:image/png;base64,` + b64 + `"}]}]}`,
	}
	for name, body := range cases {
		// "user" + part type + "abcd" = 8 + len(type)
		if got := estimate(body); got < imageTokens || got > imageTokens+40 {
			t.Errorf("%s: estimate %d, want about one image", name, got)
		}
	}
}

func TestEstimateReadsEveryPromptField(t *testing.T) {
	cases := []struct {
		name string
		body string
		want int64
	}{
		{"anthropic system string", `{"system":"abcd","messages":[]}`, 2 + 16},
		{"anthropic system blocks", `{"system":[{"type":"text","text":"abcd"}],"messages":[]}`, 4 + 16},
		{"tools count raw", `{"tools":[{"type":"function"}]}`, 11 + 16},
		{"legacy prompt", `{"prompt":"abcdef"}`, 3 + 16},
		{"token id prompt", `{"prompt":[1,2,3,4]}`, 4 + 16},
		{"embeddings input list", `{"input":["abcd","ef"]}`, 3 + 16},
		{"responses instructions and items", `{"instructions":"ab","input":[{"role":"user","content":"cd"},{"type":"function_call_output","output":"ef"}]}`, 15 + 2*8 + 16},
		{"other members are ignored", `{"model":"abcdefgh","metadata":{"k":"vvvvvvvvvv"}}`, 16},
		{"escapes count decoded", `{"prompt":"a\nb\"\ud83d\ude00"}`, 4 + 16},
	}
	for _, c := range cases {
		if got := estimate(c.body); got != c.want {
			t.Errorf("%s: estimate %d, want %d", c.name, got, c.want)
		}
	}
}

func TestEstimateNeverFailsAndIsPositiveForAnyBody(t *testing.T) {
	deep := strings.Repeat(`{"a":[`, 5000) + strings.Repeat(`]}`, 5000)
	for _, body := range []string{"x", "[1,2]", `{"messages":`, "\x00\xff", `{"messages":"hi"}`, `{"messages":[[[[]]]]}`, deep, `{"messages":[` + deep + `]}`} {
		if got := estimate(body); got < 1 {
			t.Errorf("estimate(%.20q) = %d, want at least 1", body, got)
		}
	}
	if got := estimate("  \n"); got != 0 {
		t.Errorf("empty body: %d, want 0", got)
	}
}

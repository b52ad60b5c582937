package rewrite

import (
	"strings"
	"testing"
)

// imageBody is a chat request carrying a 1 MB base64 image.
var imageBody = []byte(`{"model":"fast","messages":[{"role":"user","content":[{"type":"text","text":"What is in this image?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,` +
	strings.Repeat("iVBORw0KGgoAAAANSUhEUgAA", 1<<20/24) + `"}}]}],"stream":true}`)

func BenchmarkApplyImageBody(b *testing.B) {
	plan := Plan{Route: chat, Model: "gpt-4o", MaxTokens: 100, IncludeUsage: true}
	b.SetBytes(int64(len(imageBody)))
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = Apply(imageBody, plan)
	}
}

func BenchmarkEstimateImageBody(b *testing.B) {
	b.SetBytes(int64(len(imageBody)))
	b.ReportAllocs()
	for b.Loop() {
		_ = EstimatePromptTokens(imageBody)
	}
}

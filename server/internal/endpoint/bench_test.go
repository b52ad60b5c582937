package endpoint

import "testing"

func BenchmarkResolveChat(b *testing.B) {
	c := Default()
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Resolve(Families, "POST", "/v1/chat/completions")
	}
}

func BenchmarkResolveGemini(b *testing.B) {
	c := Default()
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Resolve(Families, "POST", "/v1beta/models/gemini-2.0-flash:streamGenerateContent")
	}
}

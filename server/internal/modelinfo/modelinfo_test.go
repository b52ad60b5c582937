package modelinfo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func embeddedCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := Embedded()
	if err != nil {
		t.Fatalf("Embedded: %v", err)
	}
	return c
}

func TestLookupResolvesDatedSnapshotsToTheirFamily(t *testing.T) {
	c := embeddedCatalog(t)
	tests := []struct {
		name, model, want string
	}{
		{"exact name", "gpt-4o-mini", "gpt-4o-mini"},
		{"openai snapshot picks the longer family", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
		{"gpt-4o snapshot", "gpt-4o-2024-08-06", "gpt-4o"},
		{"snapshot with its own lower limit", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13"},
		{"anthropic snapshot picks sonnet 4.5 not sonnet 4", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"},
		{"anthropic sonnet 4 snapshot", "claude-sonnet-4-20250514", "claude-sonnet-4"},
		{"anthropic alias", "claude-sonnet-4-0", "claude-sonnet-4"},
		{"anthropic -latest alias", "claude-3-5-haiku-latest", "claude-3-5-haiku"},
		{"vertex @ version", "claude-3-5-sonnet@20240620", "claude-3-5-sonnet"},
		{"vertex @ version of haiku 4.5", "claude-haiku-4-5@20251001", "claude-haiku-4-5"},
		{"gemini preview picks flash-lite not flash", "gemini-2.5-flash-lite-preview-06-17", "gemini-2.5-flash-lite"},
		{"gemini numbered version", "gemini-2.0-flash-001", "gemini-2.0-flash"},
		{"o3-mini snapshot picks o3-mini not o3", "o3-mini-2025-01-31", "o3-mini"},
		{"o1 snapshot", "o1-2024-12-17", "o1"},
		{"o1-pro resolves to o1", "o1-pro", "o1"},
		{"gpt-5 snapshot", "gpt-5-2025-08-07", "gpt-5"},
		{"gpt-5-chat-latest picks the chat model", "gpt-5-chat-latest", "gpt-5-chat"},
		{"gpt-5.1-chat-latest picks its chat model", "gpt-5.1-chat-latest", "gpt-5.1-chat"},
		{"dotted version resolves to its family", "gpt-5.3-codex", "gpt-5"},
		{"codex spark has its own entry", "gpt-5.3-codex-spark", "gpt-5.3-codex-spark"},
		{"gpt-5.4 mini snapshot", "gpt-5.4-mini-2026-03-17", "gpt-5.4-mini"},
		{"gpt-4.1 snapshot picks gpt-4.1 not gpt-4", "gpt-4.1-2025-04-14", "gpt-4.1"},
		{"gpt-4.1-mini snapshot", "gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"},
		{"realtime model is not gpt-4o-mini", "gpt-4o-mini-realtime-preview-2024-12-17", "gpt-4o-mini-realtime-preview"},
		{"gpt-4 family snapshot", "gpt-4-0613", "gpt-4"},
		{"gpt-4 turbo snapshot", "gpt-4-turbo-2024-04-09", "gpt-4-turbo"},
		{"deepseek v4 flash snapshot", "deepseek-v4-flash-0731", "deepseek-v4-flash"},
		{"qwen snapshot with its own entry", "qwen-plus-2025-01-25", "qwen-plus-2025-01-25"},
		{"qwen later snapshot", "qwen-plus-2025-07-28", "qwen-plus"},
		{"tts model is not gemini-2.5-flash", "gemini-2.5-flash-preview-tts", "gemini-2.5-flash-preview-tts"},
		{"claude opus 5.5 resolves to opus 5", "claude-opus-5-5", "claude-opus-5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Lookup(tt.model)
			if !got.Known || got.Model != tt.want {
				t.Errorf("Lookup(%q) = %+v, want entry %q", tt.model, got, tt.want)
			}
		})
	}
}

func TestLookupDoesNotMatchAcrossFamilies(t *testing.T) {
	c := embeddedCatalog(t)
	tests := []struct {
		name, model string
		want        string // "" = unknown
	}{
		{"gpt-4 does not swallow gpt-4o", "gpt-4o", "gpt-4o"},
		{"gpt-4 does not swallow a gpt-4o snapshot", "gpt-4o-2024-11-20", "gpt-4o"},
		{"letter after the family is not a separator", "gpt-4omni", ""},
		{"o1 does not match o1x", "o1x", ""},
		{"o1 does not match o10", "o10", ""},
		{"o3 does not match o3x-mini", "o3x-mini", ""},
		{"gpt-5 does not match gpt-50", "gpt-50", ""},
		{"gemini family needs a separator", "gemini-2.5-flashy", ""},
		{"claude family needs a separator", "claude-3-5-sonnetx", ""},
		{"deepseek-chat needs a separator", "deepseek-chatter", ""},
		{"an unknown suffix falls back to the family", "gpt-4o-min", "gpt-4o"},
		{"gpt-image-2 is not gpt-image-1", "gpt-image-2", ""},
		{"embedding models are absent", "text-embedding-3-small", ""},
		{"prefix of an entry is not the entry", "claude-opus", ""},
		{"separator at the start is not a family", "-gpt-4o", ""},
		{"empty name", "", ""},
		{"only a provider prefix", "openai/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Lookup(tt.model)
			if got.Model != tt.want || got.Known != (tt.want != "") {
				t.Errorf("Lookup(%q) = %+v, want entry %q", tt.model, got, tt.want)
			}
		})
	}
}

func TestLookupNormalizesNames(t *testing.T) {
	c := embeddedCatalog(t)
	tests := []struct {
		name, model, want string
	}{
		{"gemini models/ prefix", "models/gemini-2.5-flash", "gemini-2.5-flash"},
		{"openrouter provider prefix", "openai/gpt-4o-mini", "gpt-4o-mini"},
		{"nested prefixes keep the last segment", "openrouter/anthropic/claude-sonnet-4", "claude-sonnet-4"},
		{"case is ignored", "GPT-4O-Mini", "gpt-4o-mini"},
		{"groq path and case", "groq/Llama-3.3-70B-Versatile", "llama-3.3-70b-versatile"},
		{"surrounding space", "  gpt-4o  ", "gpt-4o"},
		{"colon variant suffix", "openai/gpt-4o-mini:free", "gpt-4o-mini"},
		{"fine-tuned model resolves to its base", "ft:gpt-4o-mini-2024-07-18:acme::abc123", "gpt-4o-mini"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Lookup(tt.model)
			if !got.Known || got.Model != tt.want {
				t.Errorf("Lookup(%q) = %+v, want entry %q", tt.model, got, tt.want)
			}
		})
	}
}

func TestLookupReportsTheEntryFigures(t *testing.T) {
	c := embeddedCatalog(t)
	tests := []struct {
		model string
		want  Info
	}{
		{"gpt-4o-mini-2024-07-18", Info{Model: "gpt-4o-mini", MaxOutput: 16384, Context: 128000, Known: true}},
		{"o3-mini", Info{Model: "o3-mini", MaxOutput: 100000, Context: 200000, CapParam: CapMaxCompletionTokens, Known: true}},
		{"gpt-5-mini", Info{Model: "gpt-5-mini", MaxOutput: 128000, Context: 400000, CapParam: CapMaxCompletionTokens, Known: true}},
		{"gpt-4.1", Info{Model: "gpt-4.1", MaxOutput: 32768, Context: 1047576, Known: true}},
		{"claude-3-haiku-20240307", Info{Model: "claude-3-haiku", MaxOutput: 4096, Context: 200000, Known: true}},
		{"gemini-2.0-flash", Info{Model: "gemini-2.0-flash", MaxOutput: 8192, Context: 1048576, Known: true}},
		{"gpt-image-1", Info{Model: "gpt-image-1", MaxOutput: 6240, ImageOutput: 6240, Known: true}},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			if got := c.Lookup(tt.model); got != tt.want {
				t.Errorf("Lookup(%q) = %+v, want %+v", tt.model, got, tt.want)
			}
		})
	}
}

func TestReasoningModelsUseMaxCompletionTokens(t *testing.T) {
	c := embeddedCatalog(t)
	tests := []struct {
		model string
		want  string
	}{
		{"o1", CapMaxCompletionTokens},
		{"o1-mini", CapMaxCompletionTokens},
		{"o3", CapMaxCompletionTokens},
		{"o4-mini-2025-04-16", CapMaxCompletionTokens},
		{"gpt-5", CapMaxCompletionTokens},
		{"gpt-5.5", CapMaxCompletionTokens},
		{"gpt-4o", ""},
		{"gpt-4.1-mini", ""},
		{"claude-sonnet-4-5", ""},
		{"gemini-2.5-pro", ""},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			if got := c.Lookup(tt.model).CapParam; got != tt.want {
				t.Errorf("Lookup(%q).CapParam = %q, want %q", tt.model, got, tt.want)
			}
		})
	}
}

func TestUnknownModelGetsTheDefault(t *testing.T) {
	c, err := New(nil, 4096)
	if err != nil {
		t.Fatal(err)
	}
	want := Info{MaxOutput: 4096}
	for _, m := range []string{"some-local-model", "grok-4", "mistral-large-latest", ""} {
		if got := c.Lookup(m); got != want {
			t.Errorf("Lookup(%q) = %+v, want %+v", m, got, want)
		}
	}
	if got := embeddedCatalog(t).Lookup("some-local-model"); got != (Info{}) {
		t.Errorf("Embedded().Lookup(unknown) = %+v, want zero Info", got)
	}
	var nilCatalog *Catalog
	if got := nilCatalog.Lookup("gpt-4o"); got != (Info{}) {
		t.Errorf("nil catalog Lookup = %+v, want zero Info", got)
	}
}

func TestOverrides(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]Entry
		model     string
		want      Info
	}{
		{
			name:      "an override replaces only the fields it sets",
			overrides: map[string]Entry{"gpt-5": {MaxOutputTokens: 32000}},
			model:     "gpt-5",
			want:      Info{Model: "gpt-5", MaxOutput: 32000, Context: 400000, CapParam: CapMaxCompletionTokens, Known: true},
		},
		{
			name:      "a family override applies to its snapshots",
			overrides: map[string]Entry{"claude-sonnet-4": {MaxOutputTokens: 8000}},
			model:     "claude-sonnet-4-20250514",
			want:      Info{Model: "claude-sonnet-4", MaxOutput: 8000, Context: 200000, Known: true},
		},
		{
			name:      "a family override leaves longer embedded entries alone",
			overrides: map[string]Entry{"claude-sonnet-4": {MaxOutputTokens: 8000}},
			model:     "claude-sonnet-4-5-20250929",
			want:      Info{Model: "claude-sonnet-4-5", MaxOutput: 64000, Context: 200000, Known: true},
		},
		{
			name:      "an override for a snapshot wins over the family it resolves to",
			overrides: map[string]Entry{"gpt-4o-mini-2024-07-18": {MaxOutputTokens: 1000}},
			model:     "gpt-4o-mini-2024-07-18",
			want:      Info{Model: "gpt-4o-mini-2024-07-18", MaxOutput: 1000, Context: 128000, Known: true},
		},
		{
			name:      "the family is untouched by a snapshot override",
			overrides: map[string]Entry{"gpt-4o-mini-2024-07-18": {MaxOutputTokens: 1000}},
			model:     "gpt-4o-mini",
			want:      Info{Model: "gpt-4o-mini", MaxOutput: 16384, Context: 128000, Known: true},
		},
		{
			name:      "an addition is matched with the same rules",
			overrides: map[string]Entry{"grok-4": {MaxOutputTokens: 30000, ContextWindow: 256000}},
			model:     "xai/grok-4-0709",
			want:      Info{Model: "grok-4", MaxOutput: 30000, Context: 256000, Known: true},
		},
		{
			name:      "override names are normalized",
			overrides: map[string]Entry{"OpenAI/GPT-4o": {MaxOutputTokens: 4000}},
			model:     "gpt-4o-2024-08-06",
			want:      Info{Model: "gpt-4o", MaxOutput: 4000, Context: 128000, Known: true},
		},
		{
			name:      "cap_param max_tokens clears an inherited max_completion_tokens",
			overrides: map[string]Entry{"o3-mini": {CapParam: CapMaxTokens}},
			model:     "o3-mini",
			want:      Info{Model: "o3-mini", MaxOutput: 100000, Context: 200000, Known: true},
		},
		{
			name:      "cap_param can be added",
			overrides: map[string]Entry{"my-reasoner": {MaxOutputTokens: 5000, CapParam: CapMaxCompletionTokens}},
			model:     "my-reasoner",
			want:      Info{Model: "my-reasoner", MaxOutput: 5000, CapParam: CapMaxCompletionTokens, Known: true},
		},
		{
			name:      "image output tokens can be set",
			overrides: map[string]Entry{"gpt-image-1-mini": {ImageOutputTokens: 2000, MaxOutputTokens: 2000}},
			model:     "gpt-image-1-mini",
			want:      Info{Model: "gpt-image-1-mini", MaxOutput: 2000, ImageOutput: 2000, Known: true},
		},
		{
			name: "a snapshot override inherits from an overridden family",
			overrides: map[string]Entry{
				"my-model":            {MaxOutputTokens: 9000, ContextWindow: 32000},
				"my-model-2026-01-01": {ContextWindow: 16000},
			},
			model: "my-model-2026-01-01",
			want:  Info{Model: "my-model-2026-01-01", MaxOutput: 9000, Context: 16000, Known: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.overrides, 1024)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := c.Lookup(tt.model); got != tt.want {
				t.Errorf("Lookup(%q) = %+v, want %+v", tt.model, got, tt.want)
			}
		})
	}
}

func TestOverridesDoNotChangeTheEmbeddedCatalog(t *testing.T) {
	if _, err := New(map[string]Entry{"gpt-4o": {MaxOutputTokens: 10}}, 0); err != nil {
		t.Fatal(err)
	}
	if got := embeddedCatalog(t).Lookup("gpt-4o").MaxOutput; got != 16384 {
		t.Errorf("embedded gpt-4o MaxOutput = %d after an override elsewhere, want 16384", got)
	}
}

func TestNewRejectsInvalidValues(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]Entry
		unknown   int64
		wantErr   string
	}{
		{"negative max output", map[string]Entry{"gpt-4o": {MaxOutputTokens: -1}}, 0, "max_output_tokens -1 is negative"},
		{"negative context", map[string]Entry{"gpt-4o": {ContextWindow: -5}}, 0, "context_window -5 is negative"},
		{"negative image output", map[string]Entry{"gpt-image-1": {ImageOutputTokens: -2}}, 0, "image_output_tokens -2 is negative"},
		{"unknown cap param", map[string]Entry{"gpt-4o": {CapParam: "max_output_tokens"}}, 0, `cap_param "max_output_tokens"`},
		{"cap param is case sensitive", map[string]Entry{"gpt-4o": {CapParam: "MAX_TOKENS"}}, 0, `cap_param "MAX_TOKENS"`},
		{"new model without max output", map[string]Entry{"brand-new": {ContextWindow: 8000}}, 0, "max_output_tokens is required"},
		{"empty name", map[string]Entry{"  ": {MaxOutputTokens: 10}}, 0, "empty model name"},
		{"name that is only a prefix", map[string]Entry{"openai/": {MaxOutputTokens: 10}}, 0, "empty model name"},
		{"two spellings of one model", map[string]Entry{"gpt-4o": {MaxOutputTokens: 10}, "OpenAI/GPT-4o": {MaxOutputTokens: 20}}, 0, "name the same model"},
		{"max output above the context window", map[string]Entry{"gpt-4o": {MaxOutputTokens: 200000}}, 0, "exceeds context_window 128000"},
		{"context below the inherited max output", map[string]Entry{"gpt-4o": {ContextWindow: 1000}}, 0, "exceeds context_window 1000"},
		{"negative unknown default", nil, -1, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.overrides, tt.unknown)
			if err == nil {
				t.Fatalf("New = %v, want an error containing %q", c, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseRejectsMalformedCatalogs(t *testing.T) {
	const entry = `{"match":"m","provider":"openai","max_output_tokens":10,"source":"https://example.com/m"}`
	file := func(checked, models string) string {
		return `{"checked":"` + checked + `","sources":[],"models":[` + models + `]}`
	}
	tests := []struct {
		name, data, wantErr string
	}{
		{"valid file parses", file("2026-12-06", entry), ""},
		{"checked is not a date", file("Dec 2026", entry), "not a YYYY-MM-DD date"},
		{"checked is an impossible date", file("2026-13-40", entry), "not a YYYY-MM-DD date"},
		{"no models", file("2026-12-06", ""), "no models"},
		{"zero max output", file("2026-12-06", strings.Replace(entry, `"max_output_tokens":10`, `"max_output_tokens":0`, 1)), "not positive"},
		{"unknown provider", file("2026-12-06", strings.Replace(entry, `"openai"`, `"acme"`, 1)), `unknown provider "acme"`},
		{"missing source", file("2026-12-06", strings.Replace(entry, `"https://example.com/m"`, `""`, 1)), "not an https URL"},
		{"plain http source", file("2026-12-06", strings.Replace(entry, `https://`, `http://`, 1)), "not an https URL"},
		{"bad cap param", file("2026-12-06", strings.Replace(entry, `"source"`, `"cap_param":"max_output","source"`, 1)), "cap_param"},
		{"uppercase match", file("2026-12-06", strings.Replace(entry, `"match":"m"`, `"match":"M"`, 1)), "lowercase"},
		{"match with a provider prefix", file("2026-12-06", strings.Replace(entry, `"match":"m"`, `"match":"openai/m"`, 1)), "lowercase"},
		{"duplicate match", file("2026-12-06", entry+","+entry), "listed twice"},
		{"max output above context", file("2026-12-06", strings.Replace(entry, `"source"`, `"context_window":5,"source"`, 1)), "exceeds context_window"},
		{"unknown field", file("2026-12-06", strings.Replace(entry, `"source"`, `"max_tokens":5,"source"`, 1)), "unknown field"},
		{"trailing data", file("2026-12-06", entry) + "{}", "data after"},
		{"not json", "nope", "catalog"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.data))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("parse: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("parse succeeded, want an error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("parse error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// TestEmbeddedCatalogIsWellSourced checks models.json itself: every figure
// positive and backed by an https source, every provider known, and the
// header's checked field a date.
func TestEmbeddedCatalogIsWellSourced(t *testing.T) {
	dec := json.NewDecoder(bytes.NewReader(modelsJSON))
	dec.DisallowUnknownFields()
	var f catalogFile
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("models.json: %v", err)
	}
	if _, err := time.Parse(time.DateOnly, f.Checked); err != nil {
		t.Errorf("checked %q is not a date: %v", f.Checked, err)
	}
	if len(f.Sources) == 0 {
		t.Error("the header lists no sources")
	}
	for _, s := range f.Sources {
		if s.Name == "" || checkURL(s.URL) != nil {
			t.Errorf("header source %+v needs a name and an https URL", s)
		}
	}
	isHTTPS := func(s string) bool {
		u, err := url.Parse(s)
		return err == nil && u.Scheme == "https" && u.Host != "" && u.Path != ""
	}
	seen := map[string]bool{}
	for _, m := range f.Models {
		t.Run(m.Match, func(t *testing.T) {
			if m.MaxOutputTokens <= 0 {
				t.Errorf("max_output_tokens = %d, want positive", m.MaxOutputTokens)
			}
			if m.ContextWindow < 0 || m.ImageOutputTokens < 0 {
				t.Errorf("negative figure: context %d, image %d", m.ContextWindow, m.ImageOutputTokens)
			}
			if !isHTTPS(m.Source) {
				t.Errorf("source %q is not an https URL", m.Source)
			}
			for _, a := range m.Also {
				if !isHTTPS(a) {
					t.Errorf("also %q is not an https URL", a)
				}
			}
			if !providers[m.Provider] {
				t.Errorf("provider %q is not known", m.Provider)
			}
			if seen[m.Match] {
				t.Errorf("listed twice")
			}
			seen[m.Match] = true
			if strings.Contains(m.Source, "github.com") && !pinned(m.Source) {
				t.Errorf("catalog source %q is not pinned to a commit", m.Source)
			}
		})
	}
}

// pinned reports whether a GitHub blob/tree URL names a 40-hex commit.
func pinned(u string) bool {
	for _, part := range strings.Split(u, "/") {
		if len(part) == 40 && strings.Trim(part, "0123456789abcdef") == "" {
			return true
		}
	}
	return false
}

func TestEveryEmbeddedEntryResolvesToItself(t *testing.T) {
	c := embeddedCatalog(t)
	for name, want := range c.entries {
		if got := c.Lookup(name); got != want || got.Model != name {
			t.Errorf("Lookup(%q) = %+v, want its own entry %+v", name, got, want)
		}
	}
}

func TestEmbeddedCatalogCoversTheMainModels(t *testing.T) {
	c := embeddedCatalog(t)
	for _, m := range []string{
		"gpt-3.5-turbo", "gpt-4", "gpt-4-turbo", "gpt-4o", "gpt-4o-mini", "chatgpt-4o-latest",
		"gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o1-mini", "o3", "o3-mini", "o4-mini",
		"gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5.1", "gpt-5.2", "gpt-5.4", "gpt-5.5", "gpt-image-1",
		"claude-3-haiku", "claude-3-opus", "claude-3-5-haiku", "claude-3-5-sonnet", "claude-3-7-sonnet",
		"claude-sonnet-4", "claude-opus-4", "claude-opus-4-1", "claude-sonnet-4-5", "claude-haiku-4-5",
		"claude-opus-4-5", "claude-opus-4-6", "claude-sonnet-4-6",
		"gemini-1.5-flash", "gemini-1.5-pro", "gemini-2.0-flash", "gemini-2.0-flash-lite",
		"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
		"deepseek-chat", "deepseek-reasoner", "qwen-max", "qwen-plus", "qwen-turbo",
		"llama-3.1-8b-instant", "llama-3.3-70b-versatile",
	} {
		if got := c.Lookup(m); !got.Known || got.Model != m {
			t.Errorf("Lookup(%q) = %+v, want its own entry", m, got)
		}
	}
}

func TestCheckedIsTheFileDate(t *testing.T) {
	c := embeddedCatalog(t)
	if c.Checked() != "2026-12-06" {
		t.Errorf("Checked() = %q, want 2026-12-06", c.Checked())
	}
	o, err := New(map[string]Entry{"x": {MaxOutputTokens: 1}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if o.Checked() != c.Checked() {
		t.Errorf("New(...).Checked() = %q, want %q", o.Checked(), c.Checked())
	}
	var nilCatalog *Catalog
	if nilCatalog.Checked() != "" {
		t.Error("nil catalog Checked() is not empty")
	}
}

func TestCatalogIsSafeForConcurrentUse(t *testing.T) {
	c, err := New(map[string]Entry{"local-model": {MaxOutputTokens: 2048}}, 512)
	if err != nil {
		t.Fatal(err)
	}
	models := []string{"gpt-4o-mini-2024-07-18", "claude-sonnet-4-5-20250929", "models/gemini-2.5-pro", "local-model-v2", "nope"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				m := models[(g+i)%len(models)]
				if got := c.Lookup(m); got.MaxOutput <= 0 {
					panic(fmt.Sprintf("Lookup(%q) = %+v", m, got))
				}
				if _, err := Embedded(); err != nil {
					panic(err)
				}
			}
		}()
	}
	wg.Wait()
}

package rewrite

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/relayapi/relayapi/server/internal/endpoint"
)

// FuzzApply: Apply never panics; a rewrite is valid JSON, and "no change"
// hands back the very same slice. The estimators never panic either.
func FuzzApply(f *testing.F) {
	for _, c := range applyCases {
		f.Add([]byte(c.body), c.plan.Model, c.plan.MaxTokens, c.plan.IncludeUsage, pathOf(c.plan.Route), c.plan.CapParam)
	}
	f.Add([]byte(`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:x"}}]}],"stream":true}`), "m\"<>", int64(7), true, "/v1/chat/completions", "")
	f.Fuzz(func(t *testing.T, body []byte, model string, maxTokens int64, includeUsage bool, path, capParam string) {
		r := route(path)
		_ = EstimatePromptTokens(body)
		_, _ = Inspect(r, body)
		plan := Plan{Route: r, Model: model, MaxTokens: maxTokens, IncludeUsage: includeUsage, CapParam: capParam}
		out, changed, err := Apply(body, plan)
		switch {
		case err != nil:
			return
		case changed && !json.Valid(out):
			t.Fatalf("invalid JSON from %q: %q", body, out)
		case !changed && (len(out) != len(body) || (len(out) > 0 && &out[0] != &body[0])):
			t.Fatalf("unchanged but a different slice: %q", out)
		}
		if changed && json.Valid(body) {
			assertSameOtherMembers(t, body, out)
		}
	})
}

// assertSameOtherMembers checks that members Apply does not own survive
// with their exact bytes.
func assertSameOtherMembers(t *testing.T, before, after []byte) {
	owned := map[string]bool{"model": true, "max_tokens": true, "max_completion_tokens": true, "max_output_tokens": true, "stream_options": true,
		"generationConfig": true, "generation_config": true}
	a, _ := parseObject(before)
	b, _ := parseObject(after)
	var kept object
	for _, m := range b {
		if !owned[stringValue(m.key)] {
			kept = append(kept, m)
		}
	}
	i := 0
	for _, m := range a {
		if owned[stringValue(m.key)] {
			continue
		}
		if i >= len(kept) || string(kept[i].key) != string(m.key) || string(kept[i].value) != string(m.value) {
			t.Fatalf("member %s changed or moved:\nbefore %q\nafter  %q", m.key, before, after)
		}
		i++
	}
}

// FuzzValid holds the fast validator to encoding/json's.
func FuzzValid(f *testing.F) {
	for _, c := range applyCases {
		f.Add([]byte(c.body))
	}
	for _, s := range []string{`-0.5e+10`, `01`, `1.`, `1e`, `-`, `"\u12"`, `"\ud83d\ude00"`, "\"\t\"", `[1,]`, `{"a" 1}`, ` true `, `nul`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := valid(b), json.Valid(b); got != want {
			t.Fatalf("valid(%q) = %v, json.Valid = %v", b, got, want)
		}
	})
}

// pathOf is a path that resolves to r (for fuzz seeds).
func pathOf(r endpoint.Route) string {
	if !r.Known() {
		return "/v1/unknown"
	}
	p := strings.ReplaceAll(r.Pattern, "/**", "/v1")
	return strings.ReplaceAll(p, "{model}", "m")
}

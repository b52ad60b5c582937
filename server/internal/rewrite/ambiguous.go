package rewrite

import (
	"github.com/relayapi/relayapi/server/internal/endpoint"
	"github.com/relayapi/relayapi/server/internal/jsonscan"
)

// A member the relay reads must mean one thing to the relay and to the
// provider. Providers do not agree on how they match keys: Go servers
// (encoding/json) match case-insensitively and take the last match,
// proto3 JSON parsers (Gemini) take snake_case and lowerCamelCase alike,
// pydantic takes the last duplicate, some parsers the first. So a body
// that names a member the relay reads twice, or in another spelling
// ({"max_tokens":50,"MAX_TOKENS":99999}, "maxOutputTokens" beside
// "max_output_tokens", "model" twice), is refused instead of guessed at.

// readKeys are the top-level members the relay reads on route r.
func readKeys(r endpoint.Route) []string {
	keys := []string{"model", "stream", "stream_options"}
	if !r.Known() {
		return keys
	}
	keys = append(keys, capMembers(r)...)
	switch r.Choices {
	case endpoint.NChoices:
		keys = append(keys, "n")
	case endpoint.NBestOfChoices:
		keys = append(keys, "n", "best_of")
	}
	if r.Cap == endpoint.GeminiCap || r.Choices == endpoint.CandidateCount {
		keys = append(keys, geminiConfigKeys...)
	}
	return append(keys, contextKeys(r.Context)...)
}

// ambiguous names the first member the relay reads that the body gives
// twice or in another spelling, "" when there is none. The members of
// generationConfig and stream_options are checked too.
func (o object) ambiguous(r endpoint.Route) string {
	if k := o.ambiguousAmong(readKeys(r)); k != "" {
		return k
	}
	for _, cfg := range o.members(geminiConfigKeys) {
		if c, err := parseObject(cfg); err == nil {
			if k := c.ambiguousAmong(append(append([]string{}, geminiCaps...), geminiCount...)); k != "" {
				return k
			}
		}
	}
	if opts, err := parseObject(o.get("stream_options")); err == nil {
		return opts.ambiguousAmong([]string{"include_usage"})
	}
	return ""
}

// ambiguousAmong: two members whose names fold alike (case, Unicode
// folding, underscores) and fold like one of keys.
func (o object) ambiguousAmong(keys []string) string {
	wanted := make(map[string]bool, len(keys))
	for _, k := range keys {
		wanted[jsonscan.Fold(k)] = true
	}
	seen := map[string]bool{}
	var buf [64]byte
	for _, m := range o {
		f := jsonscan.AppendFold(buf[:0], m.key)
		if !wanted[string(f)] {
			continue
		}
		name := keyName(m.key)
		if seen[string(f)] || !isAny(name, keys) {
			return name
		}
		seen[string(f)] = true
	}
	return ""
}

func isAny(name string, keys []string) bool {
	for _, k := range keys {
		if name == k {
			return true
		}
	}
	return false
}

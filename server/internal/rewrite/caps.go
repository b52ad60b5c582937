package rewrite

import (
	"math"
	"strconv"

	"github.com/relayapi/relayapi/server/internal/endpoint"
	"github.com/relayapi/relayapi/server/internal/usage"
)

// openAICaps are OpenAI's names for an answer's bound: chat's legacy
// max_tokens and newer max_completion_tokens, the Responses API's
// max_output_tokens. Every OpenAI-format request has all three clamped,
// whatever its endpoint: a lenient OpenAI-compatible server may read any.
var openAICaps = []string{"max_tokens", "max_completion_tokens", "max_output_tokens"}

// geminiCaps are generationConfig's bound in both spellings the Gemini
// API accepts: proto3 JSON parsers take the lowerCamelCase name and the
// proto field name alike (protobuf.dev/programming-guides/json).
var (
	geminiConfigKeys = []string{"generationConfig", "generation_config"}
	geminiCaps       = []string{"maxOutputTokens", "max_output_tokens"}
	geminiCount      = []string{"candidateCount", "candidate_count"}
)

// capMembers are the members that bound an answer on the plan's route.
func capMembers(r endpoint.Route) []string {
	if !r.Known() {
		return nil
	}
	switch r.Cap {
	case endpoint.ChatCap, endpoint.ResponsesCap, endpoint.MaxTokensCap:
		if r.Format == usage.Anthropic {
			return []string{"max_tokens"} // Anthropic refuses unknown members
		}
		return openAICaps
	}
	return nil
}

// memberToAdd names the member that caps a request which has none.
func memberToAdd(p Plan) string {
	switch p.Route.Cap {
	case endpoint.ChatCap:
		if p.CapParam != "" {
			return p.CapParam
		}
		return "max_tokens"
	case endpoint.MaxTokensCap:
		return "max_tokens"
	case endpoint.ResponsesCap:
		return "max_output_tokens"
	}
	return "" // embeddings, images, audio…: no answer length to bound
}

func (o object) capTokens(p Plan) (object, bool) {
	if p.MaxTokens <= 0 || !p.Route.Known() {
		return o, false
	}
	if p.Route.Cap == endpoint.GeminiCap {
		return o.capGemini(p.MaxTokens)
	}
	return o.clamp(capMembers(p.Route), memberToAdd(p), p.MaxTokens)
}

// clamp lowers every member named in keys that is above limit; one that
// is no number (a string, say) is replaced too, in case a lenient
// provider reads it. A null cap means "no cap" and is set only when no
// other cap is given. With none at all, add is added (when not "").
func (o object) clamp(keys []string, add string, limit int64) (object, bool) {
	changed, capped, firstNull := false, false, -1
	for i := range o {
		if !keyIsAny(o[i].key, keys) {
			continue
		}
		if string(o[i].value) == "null" {
			if firstNull < 0 {
				firstNull = i
			}
			continue
		}
		capped = true
		if n, ok := number(o[i].value); !ok || n > float64(limit) {
			o[i].value, changed = strconv.AppendInt(nil, limit, 10), true
		}
	}
	switch {
	case capped:
		return o, changed
	case firstNull >= 0:
		o[firstNull].value = strconv.AppendInt(nil, limit, 10)
		return o, true
	case add == "":
		return o, false
	}
	return o.add(add, strconv.AppendInt(nil, limit, 10)), true
}

// capGemini bounds generationConfig.maxOutputTokens in every
// generationConfig member, adding one when there is none.
func (o object) capGemini(limit int64) (object, bool) {
	found, changed := false, false
	for i := range o {
		if !keyIsAny(o[i].key, geminiConfigKeys) {
			continue
		}
		found = true
		cfg, err := parseObject(o[i].value)
		if err != nil { // null, or not an object: the provider would refuse it
			o[i].value, changed = geminiConfig(limit), true
			continue
		}
		if cfg, ok := cfg.clamp(geminiCaps, "maxOutputTokens", limit); ok {
			o[i].value, changed = cfg.encode(len(o[i].value)+24), true
		}
	}
	if !found {
		return o.add("generationConfig", geminiConfig(limit)), true
	}
	return o, changed
}

func geminiConfig(limit int64) []byte {
	return append(strconv.AppendInt([]byte(`{"maxOutputTokens":`), limit, 10), '}')
}

// number reads a raw JSON number without losing it to a type: only
// compared, never written back.
func number(raw []byte) (float64, bool) {
	n, err := strconv.ParseFloat(string(raw), 64)
	return n, err == nil && !math.IsNaN(n) && !math.IsInf(n, 0)
}

// count reads a count the way a lenient (pydantic, proto3 JSON) server
// would: a number, or a string holding one, rounded up; ok is false for
// anything else.
func count(raw []byte) (n int64, ok bool) {
	if len(raw) > 0 && raw[0] == '"' {
		raw = []byte(stringValue(raw))
	}
	f, ok := number(raw)
	if !ok {
		return 0, false
	}
	return int64(min(max(math.Ceil(f), 0), math.MaxInt64/4)), true
}

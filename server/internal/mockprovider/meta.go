package mockprovider

import "encoding/json"

// meta is what every request body says about model, stream, caps and
// choice count, whatever the API: recorded for /_mock/requests.
type meta struct {
	Model               string `json:"model"`
	Stream              bool   `json:"stream"`
	MaxTokens           *int   `json:"max_tokens"`
	MaxCompletionTokens *int   `json:"max_completion_tokens"`
	MaxOutputTokens     *int   `json:"max_output_tokens"`
	N                   *int   `json:"n"`
	BestOf              *int   `json:"best_of"`
	GenerationConfig    *struct {
		MaxOutputTokens *int `json:"maxOutputTokens"`
		CandidateCount  *int `json:"candidateCount"`
	} `json:"generationConfig"`
}

func parseMeta(body []byte) meta {
	var m meta
	_ = json.Unmarshal(body, &m)
	return m
}

// capParams lists the cap parameters in the order MaxTokens prefers them.
func (m meta) capParams() []openAICapParam {
	ps := []openAICapParam{
		{"max_tokens", m.MaxTokens},
		{"max_completion_tokens", m.MaxCompletionTokens},
		{"max_output_tokens", m.MaxOutputTokens},
	}
	if g := m.GenerationConfig; g != nil {
		ps = append(ps, openAICapParam{"maxOutputTokens", g.MaxOutputTokens})
	}
	return ps
}

func (m meta) maxTokens() *int {
	for _, p := range m.capParams() {
		if p.value != nil {
			return p.value
		}
	}
	return nil
}

func (m meta) caps() map[string]int {
	var out map[string]int
	for _, p := range m.capParams() {
		if p.value == nil {
			continue
		}
		if out == nil {
			out = map[string]int{}
		}
		out[p.name] = *p.value
	}
	return out
}

func (m meta) n() int {
	if g := m.GenerationConfig; g != nil && g.CandidateCount != nil {
		return *g.CandidateCount
	}
	return deref(m.N)
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

package rewrite

import (
	"math"

	"github.com/relayapi/relayapi/server/internal/endpoint"
)

// Facts are what a request body says about its cost, read in one pass
// before the call is admitted.
type Facts struct {
	// PromptEstimate over-estimates the prompt tokens (see estimate.go).
	PromptEstimate int64
	// MaxTokens is the largest cap the body sets on one answer, 0 when it
	// sets none.
	MaxTokens int64
	// Choices is how many answers the call asks for (n, best_of,
	// candidateCount): the completion cost is multiplied by it. At least 1.
	Choices int64
	// IncludeUsage: the client itself asked for stream_options.include_usage.
	IncludeUsage bool
	// ServerContext names the first parameter that makes the provider use
	// context the relay cannot see or count (stored responses, files,
	// server-side tools), "" when there is none.
	ServerContext string
	// Ambiguous names a member the relay reads that the body also gives
	// in another spelling or twice, "" when there is none.
	Ambiguous string
	// BadChoices names a choice count that is no number.
	BadChoices string
}

// Inspect reads the facts of a JSON object body for route. A body that is
// not a JSON object is an ErrNotObject.
func Inspect(r endpoint.Route, body []byte) (Facts, error) {
	o, err := parseObject(body)
	if err != nil {
		return Facts{}, err
	}
	f := Facts{PromptEstimate: estimateObject(o), Choices: 1}
	f.Ambiguous = o.ambiguous(r)
	f.MaxTokens = o.requestedMax(r)
	f.Choices, f.BadChoices = o.choices(r)
	f.IncludeUsage = o.clientIncludeUsage()
	if r.Known() {
		f.ServerContext = o.serverContext(r.Context)
	}
	return f, nil
}

// requestedMax is the largest cap member, rounded up; 0 when none is a
// positive number.
func (o object) requestedMax(r endpoint.Route) int64 {
	if r.Known() && r.Cap == endpoint.GeminiCap {
		var most int64
		for _, cfg := range o.members(geminiConfigKeys) {
			if c, err := parseObject(cfg); err == nil {
				most = max(most, c.largest(geminiCaps))
			}
		}
		return most
	}
	return o.largest(capMembers(r))
}

func (o object) largest(keys []string) int64 {
	var most int64
	for _, m := range o {
		if !keyIsAny(m.key, keys) {
			continue
		}
		if n, ok := number(m.value); ok && n > 0 {
			most = max(most, int64(min(math.Ceil(n), math.MaxInt64/4)))
		}
	}
	return most
}

// choices is the number of answers asked for: the largest of the members
// that multiply them. A member that is no number is reported (a lenient
// server may still read it), and counts as 1.
func (o object) choices(r endpoint.Route) (n int64, bad string) {
	n = 1
	if !r.Known() {
		return n, ""
	}
	var keys []string
	var values [][]byte
	switch r.Choices {
	case endpoint.NChoices:
		keys = []string{"n"}
	case endpoint.NBestOfChoices:
		keys = []string{"n", "best_of"}
	case endpoint.CandidateCount:
		keys = geminiCount
		for _, cfg := range o.members(geminiConfigKeys) {
			if c, err := parseObject(cfg); err == nil {
				values = append(values, c.members(keys)...)
			}
		}
	}
	if r.Choices != endpoint.CandidateCount {
		values = o.members(keys)
	}
	for _, v := range values {
		if string(v) == "null" {
			continue
		}
		c, ok := count(v)
		if !ok {
			return n, "n"
		}
		n = max(n, c)
	}
	return n, ""
}

// clientIncludeUsage reports stream_options.include_usage: true.
func (o object) clientIncludeUsage() bool {
	opts, err := parseObject(o.get("stream_options"))
	return err == nil && string(opts.get("include_usage")) == "true"
}

// members are the values of every member named one of keys.
func (o object) members(keys []string) [][]byte {
	var out [][]byte
	for _, m := range o {
		if keyIsAny(m.key, keys) {
			out = append(out, m.value)
		}
	}
	return out
}

package mockprovider

import (
	"iter"
	"strings"
)

// reasoningTokens is what a reasoning (thinking) model spends before it
// answers. Real models vary; a fixed amount keeps the mock deterministic.
const reasoningTokens = 64

// choice is what the mock generates for one choice (OpenAI) or candidate
// (Gemini): hidden reasoning tokens first, then the visible text tokens.
type choice struct {
	tokens    []string
	reasoning int
	truncated bool // a cap cut it short
}

// completion is what the choice bills as output: reasoning tokens are
// billed as completion tokens too
// (https://platform.openai.com/docs/guides/reasoning#controlling-costs,
// https://ai.google.dev/gemini-api/docs/thinking#pricing).
func (ch choice) completion() int { return ch.reasoning + len(ch.tokens) }

func (ch choice) text() string { return strings.Join(ch.tokens, "") }

// generate produces one choice answering user (see [CompletionTokens]).
// Reasoning is spent first and the cap (0: none) bounds reasoning and text
// together: "max_completion_tokens … limit the total number of tokens the
// model generates, including both reasoning and final output tokens"
// (https://platform.openai.com/docs/guides/reasoning#controlling-costs), so
// a cap at or below the reasoning leaves no visible text and a "length"
// finish. x-mock-ignore-max-tokens drops every cap, like a non-compliant
// OpenAI-compatible server.
func (c *call) generate(user string, reasoning, limit int) choice {
	tokens, _ := CompletionTokens(user, c.chunks, 0)
	if c.ignoreCaps || limit <= 0 {
		return choice{tokens: tokens, reasoning: reasoning}
	}
	ch := choice{reasoning: min(reasoning, limit)}
	if left := limit - ch.reasoning; len(tokens) > left {
		tokens, ch.truncated = tokens[:left], true
	}
	ch.tokens = tokens
	return ch
}

// repeat returns n copies of ch: every choice answers the same prompt.
func repeat(ch choice, n int) []choice {
	out := make([]choice, n)
	for i := range out {
		out[i] = ch
	}
	return out
}

// sumCompletion adds the billed output of choices, as OpenAI sums
// completion_tokens over all n choices.
func sumCompletion(chs []choice) (completion, reasoning int) {
	for _, ch := range chs {
		completion += ch.completion()
		reasoning += ch.reasoning
	}
	return completion, reasoning
}

// piece is one streamed content chunk: x-mock-chunk-tokens word tokens
// (default 1), like Anthropic's multi-token text deltas.
type piece struct {
	text   string
	tokens int
}

func (c *call) pieces(tokens []string) []piece {
	k := max(c.chunkTokens, 1)
	out := make([]piece, 0, (len(tokens)+k-1)/k)
	for i := 0; i < len(tokens); i += k {
		j := min(i+k, len(tokens))
		out = append(out, piece{text: strings.Join(tokens[i:j], ""), tokens: j - i})
	}
	return out
}

// step is one content chunk of one choice; last marks the choice's final
// chunk (never with x-mock-stream-forever).
type step struct {
	choice int
	last   bool
	piece
}

// steps yields the content chunks of every choice, numbered from 0,
// round-robin over the choices (OpenAI interleaves the chunks of n choices,
// each carrying its `index`). With x-mock-stream-forever each choice's
// chunks repeat until the caller stops.
func (c *call) steps(chs []choice) iter.Seq2[int, step] {
	ps := make([][]piece, len(chs))
	for i, ch := range chs {
		ps[i] = c.pieces(ch.tokens)
	}
	return func(yield func(int, step) bool) {
		n := 0
		for round := 0; ; round++ {
			more := false
			for ci, p := range ps {
				if len(p) == 0 || (round >= len(p) && !c.forever) {
					continue
				}
				more = true
				st := step{choice: ci, last: !c.forever && round == len(p)-1, piece: p[round%len(p)]}
				if !yield(n, st) {
					return
				}
				n++
			}
			if !more {
				return
			}
		}
	}
}

package relay

import (
	"errors"
	"math"
	"net/http"

	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/endpoint"
	"github.com/relayapi/relayapi/server/internal/rewrite"
)

// Budget says how calls are priced on tokens with a token_budget.
type Budget struct {
	// OutputReserve bounds an answer whose request sets no max_tokens.
	OutputReserve int64
	// ReserveServerContext admits requests that bring in server-side
	// context (stored conversations, files, server tools), reserving
	// ServerContextTokens more for their prompt; otherwise they are
	// refused.
	ReserveServerContext bool
	ServerContextTokens  int64
}

// DefaultBudget is Options.Budget when unset.
var DefaultBudget = Budget{OutputReserve: 8192, ServerContextTokens: 32768}

// pricing is what a call may cost, worked out before it is admitted.
type pricing struct {
	prompt    int64 // reserved for the prompt
	requested int64 // completion asked of the store, all answers together
	perAnswer int64 // the most one answer may produce (0: nothing to cap)
	answers   int64
	facts     rewrite.Facts
	capParam  string
	// free endpoints (counting tokens, listing models) are charged
	// nothing; fixed ones the operator's price.
	free  bool
	fixed int64
}

var (
	errNotMetered = apierror.New("endpoint_not_metered",
		"This token has a token_budget, and the relay cannot meter this endpoint's usage.")
	errAmbiguous = apierror.New("ambiguous_request",
		"The request body names a member the relay reads (model, stream, a cap, n…) twice or in another spelling.")
	errNotObject = apierror.New("bad_request", "The request body must be a JSON object for this token's limits.")
	errChoices   = apierror.New("bad_request", "The request's number of answers (n) must be a number.")
)

func contextNotMetered(param string) *apierror.Error {
	return apierror.New("parameter_not_metered",
		"This token has a token_budget, and "+param+" makes the provider add context the relay cannot count.")
}

// price reads what the body says about the call's cost and decides what
// the store must reserve. Without a budget only the max_tokens claim is
// worked out.
func (h *Handler) price(c *call, r *http.Request, body []byte) (pricing, *apierror.Error) {
	p := pricing{answers: 1}
	claims := c.claims
	info := h.opts.Models.Lookup(c.model)
	p.capParam = c.provider.ChatCapParam
	if info.CapParam != "" {
		p.capParam = info.CapParam
	}
	if (claims.TokenBudget > 0 || claims.MaxTokens > 0) && c.route.IsMetered() {
		facts, err := rewrite.Inspect(c.route, body)
		switch {
		case errors.Is(err, rewrite.ErrNotObject):
			return p, errNotObject
		case facts.Ambiguous != "":
			return p, errAmbiguous
		}
		p.facts, p.answers = facts, facts.Choices
	}
	if claims.TokenBudget == 0 {
		if claims.MaxTokens > 0 {
			p.perAnswer = claims.MaxTokens
			if info.Known {
				p.perAnswer = min(p.perAnswer, info.MaxOutput)
			}
		}
		return p, nil
	}
	switch {
	case c.route.Kind == endpoint.Utility:
		// Free at the provider: the store still checks the budget and
		// holds a token while the call runs; nothing is charged.
		p.free, p.requested = true, 1
		return p, nil
	case !c.route.IsMetered() || (c.route.Cap == endpoint.ImageCap && info.ImageOutput == 0):
		if fixed := c.provider.FixedCharge(r.Method, c.path); fixed > 0 {
			p.fixed, p.prompt, p.requested = fixed, fixed, 1
			return p, nil
		}
		return p, errNotMetered
	case p.facts.BadChoices != "":
		return p, errChoices
	}
	if param := p.facts.ServerContext; param != "" {
		if !h.opts.Budget.ReserveServerContext {
			return p, contextNotMetered(param)
		}
		p.prompt += h.opts.Budget.ServerContextTokens
	}
	p.prompt += p.facts.PromptEstimate
	p.perAnswer = h.answerLimit(c.route, info.MaxOutput, info.ImageOutput, p.facts.MaxTokens, claims.MaxTokens)
	p.requested = max(mulSat(p.perAnswer, p.answers), 1)
	return p, nil
}

// answerLimit is the most one answer may produce: what the request asks
// (or the operator's output reserve when it asks nothing), never above
// the model's own limit nor the token's max_tokens. An image costs what
// the catalog says; embeddings produce nothing.
func (h *Handler) answerLimit(r endpoint.Route, modelMax, imageOutput, asked, claim int64) int64 {
	switch r.Cap {
	case endpoint.NoCap:
		return 0
	case endpoint.ImageCap:
		return imageOutput
	}
	want := asked
	if want == 0 {
		want = h.opts.Budget.OutputReserve
	}
	want = min(want, modelMax)
	if claim > 0 {
		want = min(want, claim)
	}
	return want
}

// grantedPerAnswer turns the store's grant into the cap of each answer,
// or refuses the call when the budget left cannot hold one answer: an
// image cannot be made smaller, and OpenAI refuses a Responses API
// max_output_tokens below 16.
func grantedPerAnswer(c *call, p pricing) (int64, *apierror.Error) {
	if c.claims.TokenBudget == 0 || p.free || p.fixed > 0 {
		return p.perAnswer, nil
	}
	switch c.route.Cap {
	case endpoint.NoCap:
		return 0, nil
	case endpoint.ImageCap:
		if c.grant.CompletionCap < p.requested {
			return 0, errBudget
		}
		return p.perAnswer, nil
	}
	per := min(p.perAnswer, c.grant.CompletionCap/p.answers)
	least := int64(1)
	if c.route.Cap == endpoint.ResponsesCap {
		least = 16
	}
	if per < least {
		return 0, errBudget
	}
	return per, nil
}

func mulSat(a, b int64) int64 {
	if a > 0 && b > math.MaxInt64/4/a {
		return math.MaxInt64 / 4
	}
	return a * b
}

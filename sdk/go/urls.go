package relayapi

import (
	"fmt"
	"net/url"
	"strings"
)

// Flavor is the base-URL convention of a vendor SDK (docs/token-format.md §7).
type Flavor string

const (
	// OpenAI: {relay}/t/{token}/v1, for OpenAI-compatible SDKs (openai-go
	// option.WithBaseURL, LangChain, the Vercel AI SDK…).
	OpenAI Flavor = "openai"
	// Anthropic: {relay}/t/{token}, for Anthropic's SDKs.
	Anthropic Flavor = "anthropic"
	// Gemini: {relay}/t/{token}, for Google's genai SDKs.
	Gemini Flavor = "gemini"
)

// BaseURL returns the address a vendor SDK of flavor uses to reach the
// relay with tok, e.g. http://127.0.0.1:8840/t/eyJ…/v1 for OpenAI.
func (c *Client) BaseURL(tok string, flavor Flavor) (string, error) {
	if tok == "" || strings.ContainsAny(tok, "/?#% \t\r\n") {
		return "", invalidArgument("token", "must be a compact token")
	}
	base := c.relayURL + "/t/" + url.PathEscape(tok)
	switch flavor {
	case OpenAI, "":
		return base + "/v1", nil
	case Anthropic, Gemini:
		return base, nil
	}
	return "", invalidArgument("flavor", fmt.Sprintf("%q is not openai, anthropic or gemini", flavor))
}

package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
)

type tokenFlags struct {
	rai, provider, apiKey, sub, jti, nbf, flavor string
	expiresIn                                    string
	maxCalls, rpm, concurrency, maxTokens        int64
	tokenBudget, maxSessionSeconds               int64
	models, paths, ips, origins                  []string
	modelMap, meta                               []string
	url                                          bool
}

func newToken() *cobra.Command {
	var f tokenFlags
	cmd := &cobra.Command{
		Use:   "token --rai FILE --provider P [--api-key K] [limits...] [--url]",
		Short: "Mint a token (prints the token, or with --url the ready base URL)",
		Long: `Mint a token from a backend .rai file.

Every claim of docs/token-format.md has a flag. Durations take Go syntax or
days ("90s", "15m", "2h", "7d"). The API key may also come from the
environment variable RELAYAPI_API_KEY, which keeps it out of shell history.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.rai == "" {
				return usagef("--rai is required")
			}
			file, err := rai.Load(f.rai)
			if err != nil {
				return err
			}
			for _, w := range file.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "relayapi: warning: "+w)
			}
			key, err := file.MintKey()
			if err != nil {
				return err
			}
			claims, err := f.claims(time.Now())
			if err != nil {
				return err
			}
			tok, err := token.Encode(claims, key)
			if err != nil {
				return usageError{err}
			}
			if f.url {
				if tok, err = file.Server.TokenURL(tok, f.flavor); err != nil {
					return usageError{err}
				}
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), tok)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.rai, "rai", "", "backend .rai key file")
	fl.StringVar(&f.provider, "provider", "openai", "provider name configured on the relay")
	fl.StringVar(&f.apiKey, "api-key", "", "real upstream API key (omit when the relay holds it; or set RELAYAPI_API_KEY)")
	fl.StringVar(&f.expiresIn, "expires-in", "1h", "lifetime from now")
	fl.StringVar(&f.nbf, "nbf", "", "not before: a delay from now (10m) or a Unix time")
	fl.StringVar(&f.sub, "sub", "", "end-user id")
	fl.StringVar(&f.jti, "jti", "", "token id (default: 128 random bits)")
	fl.Int64Var(&f.maxCalls, "max-calls", 0, "total calls allowed (0: no limit)")
	fl.Int64Var(&f.rpm, "rpm", 0, "requests per minute (0: no limit)")
	fl.Int64Var(&f.concurrency, "concurrency", 0, "requests in flight (0: no limit)")
	fl.Int64Var(&f.maxTokens, "max-tokens", 0, "per-request max_tokens clamp (0: none)")
	fl.Int64Var(&f.tokenBudget, "token-budget", 0, "total prompt+completion tokens (0: no limit)")
	fl.Int64Var(&f.maxSessionSeconds, "max-session-seconds", 0, "longest realtime (WebSocket) session, 1-86400 (0: the relay's maximum)")
	fl.StringSliceVar(&f.models, "models", nil, "allowed model patterns, comma separated (* wildcard)")
	fl.StringSliceVar(&f.paths, "paths", nil, "allowed path patterns, comma separated (* wildcard)")
	fl.StringSliceVar(&f.ips, "ips", nil, "allowed client IPs or CIDRs, comma separated")
	fl.StringSliceVar(&f.origins, "origins", nil, "allowed browser origins, comma separated")
	fl.StringArrayVar(&f.modelMap, "model-map", nil, "model rewrite from=to (repeatable)")
	fl.StringArrayVar(&f.meta, "meta", nil, "metadata key=value copied to logs (repeatable)")
	fl.BoolVar(&f.url, "url", false, "print the ready base URL instead of the bare token")
	fl.StringVar(&f.flavor, "flavor", "openai", "with --url: openai, anthropic or gemini")
	return cmd
}

func (f *tokenFlags) claims(now time.Time) (*token.Claims, error) {
	life, err := parseDuration(f.expiresIn)
	if err != nil || life <= 0 {
		return nil, usagef("--expires-in %q is not a positive duration", f.expiresIn)
	}
	jti := f.jti
	if jti == "" {
		jti = token.NewID()
	}
	apiKey := f.apiKey
	if apiKey == "" {
		apiKey = os.Getenv("RELAYAPI_API_KEY")
	}
	c := &token.Claims{
		ID: jti, ExpiresAt: now.Add(life).Unix(), IssuedAt: now.Unix(),
		Subject: f.sub, Provider: f.provider, APIKey: apiKey,
		MaxCalls: f.maxCalls, RPM: f.rpm, Concurrency: f.concurrency,
		MaxTokens: f.maxTokens, TokenBudget: f.tokenBudget, MaxSessionSeconds: f.maxSessionSeconds,
		Models: f.models, Paths: f.paths, IPs: f.ips, Origins: f.origins,
	}
	if f.nbf != "" {
		if c.NotBefore, err = parseTimeFlag(f.nbf, now); err != nil {
			return nil, usagef("--nbf: %v", err)
		}
	}
	if c.ModelMap, err = pairs("--model-map", f.modelMap); err != nil {
		return nil, err
	}
	if c.Meta, err = pairs("--meta", f.meta); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// parseDuration accepts Go durations plus a "d" (days) suffix.
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

func parseTimeFlag(s string, now time.Time) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	d, err := parseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither a Unix time nor a duration", s)
	}
	return now.Add(d).Unix(), nil
}

func pairs(flag string, items []string) (map[string]string, error) {
	if len(items) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, item := range items {
		for _, part := range strings.Split(item, ",") {
			k, v, ok := strings.Cut(part, "=")
			if !ok || k == "" || v == "" {
				return nil, usagef("%s %q must be key=value", flag, part)
			}
			m[k] = v
		}
	}
	return m, nil
}

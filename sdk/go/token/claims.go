package token

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Claims is the payload of a RelayAPI token (docs/token-format.md §4).
// Optional numeric limits use 0 for "absent": every one of them must be ≥ 1
// when present, so 0 is never a meaningful limit.
type Claims struct {
	ID        string `json:"jti"`
	ExpiresAt int64  `json:"exp"`
	IssuedAt  int64  `json:"iat,omitempty"`
	NotBefore int64  `json:"nbf,omitempty"`
	Subject   string `json:"sub,omitempty"`

	Provider    string            `json:"provider"`
	APIKey      string            `json:"api_key,omitempty"`
	MaxCalls    int64             `json:"max_calls,omitempty"`
	Models      []string          `json:"models,omitempty"`
	Paths       []string          `json:"paths,omitempty"`
	RPM         int64             `json:"rpm,omitempty"`
	Concurrency int64             `json:"concurrency,omitempty"`
	MaxTokens   int64             `json:"max_tokens,omitempty"`
	TokenBudget int64             `json:"token_budget,omitempty"`
	IPs         []string          `json:"ips,omitempty"`
	Origins     []string          `json:"origins,omitempty"`
	ModelMap    map[string]string `json:"model_map,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`

	// MaxSessionSeconds bounds a realtime (WebSocket) session: the relay's
	// own maximum applies when it is absent, and the smaller of the two wins.
	MaxSessionSeconds int64 `json:"max_session_seconds,omitempty"`

	// Extensions holds `x_…` claims verbatim. The relay ignores them.
	Extensions map[string]json.RawMessage `json:"-"`
}

const maxSafeInt = 1<<53 - 1

// ModelMapAny is the model_map key that maps every model no other key names
// (what 1.x's ext_info "rep_m" did).
const ModelMapAny = "*"

// MapModel returns the model model_map puts in place of model: its own
// entry, else the "*" entry. A request that names no model is not mapped.
func (c *Claims) MapModel(model string) (string, bool) {
	if model == "" || c.ModelMap == nil {
		return "", false
	}
	if mapped, ok := c.ModelMap[model]; ok {
		return mapped, true
	}
	mapped, ok := c.ModelMap[ModelMapAny]
	return mapped, ok
}

type intRule struct{ min, max int64 }

var (
	jtiPattern      = regexp.MustCompile(`^[A-Za-z0-9._:-]{16,128}$`)
	providerPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	originPattern   = regexp.MustCompile(`^([a-z][a-z0-9+.-]*)://(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[([0-9a-f:.]+)\])(:([0-9]{1,5}))?$`)

	intRules = map[string]intRule{
		"exp":          {1, maxSafeInt},
		"iat":          {0, maxSafeInt},
		"nbf":          {0, maxSafeInt},
		"max_calls":    {1, maxSafeInt},
		"rpm":          {1, 1_000_000},
		"concurrency":  {1, 100_000},
		"max_tokens":   {1, 1<<31 - 1},
		"token_budget": {1, maxSafeInt},

		"max_session_seconds": {1, 86_400},
	}
)

// knownClaims lists every claim name v1 accepts besides `x_…` extensions.
var knownClaims = map[string]bool{
	"jti": true, "exp": true, "iat": true, "nbf": true, "sub": true,
	"provider": true, "api_key": true, "max_calls": true, "models": true,
	"paths": true, "rpm": true, "concurrency": true, "max_tokens": true,
	"token_budget": true, "ips": true, "origins": true, "model_map": true,
	"meta": true, "max_session_seconds": true,
}

// MarshalJSON writes the claims with their extensions merged in.
func (c Claims) MarshalJSON() ([]byte, error) {
	type plain Claims
	base, err := json.Marshal(plain(c))
	if err != nil || len(c.Extensions) == 0 {
		return base, err
	}
	var buf bytes.Buffer
	buf.Write(base[:len(base)-1])
	names := make([]string, 0, len(c.Extensions))
	for name := range c.Extensions {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		key, _ := json.Marshal(name)
		buf.WriteByte(',')
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(c.Extensions[name])
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON parses claims strictly: unknown names (other than `x_…`),
// nulls, non-integer numbers and out-of-range values are errors. The result
// is also checked with Validate.
func (c *Claims) UnmarshalJSON(data []byte) error {
	parsed, err := ParseClaims(data)
	if err != nil {
		return err
	}
	*c = *parsed
	return nil
}

// ParseClaims parses and validates a claims JSON object.
func ParseClaims(data []byte) (*Claims, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("claims are not a JSON object")
	}
	c := &Claims{}
	for name, value := range raw {
		if err := c.setClaim(name, value); err != nil {
			return nil, err
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Claims) setClaim(name string, value json.RawMessage) error {
	if bytes.Equal(bytes.TrimSpace(value), []byte("null")) {
		return fmt.Errorf("claim %q: null is not allowed", name)
	}
	if strings.HasPrefix(name, "x_") {
		if c.Extensions == nil {
			c.Extensions = map[string]json.RawMessage{}
		}
		c.Extensions[name] = value
		return nil
	}
	if !knownClaims[name] {
		return fmt.Errorf("unknown claim %q", name)
	}
	if rule, ok := intRules[name]; ok {
		n, err := parseInt(value, rule)
		if err != nil {
			return fmt.Errorf("claim %q: %w", name, err)
		}
		c.setInt(name, n)
		return nil
	}
	var target any
	switch name {
	case "jti":
		target = &c.ID
	case "sub":
		target = &c.Subject
	case "provider":
		target = &c.Provider
	case "api_key":
		target = &c.APIKey
	case "models":
		target = &c.Models
	case "paths":
		target = &c.Paths
	case "ips":
		target = &c.IPs
	case "origins":
		target = &c.Origins
	case "model_map":
		target = &c.ModelMap
	case "meta":
		target = &c.Meta
	}
	if err := json.Unmarshal(value, target); err != nil {
		return fmt.Errorf("claim %q has the wrong type", name)
	}
	if str, ok := target.(*string); ok && *str == "" {
		return fmt.Errorf("claim %q must not be empty (omit it instead)", name)
	}
	return nil
}

func (c *Claims) setInt(name string, n int64) {
	switch name {
	case "exp":
		c.ExpiresAt = n
	case "iat":
		c.IssuedAt = n
	case "nbf":
		c.NotBefore = n
	case "max_calls":
		c.MaxCalls = n
	case "rpm":
		c.RPM = n
	case "concurrency":
		c.Concurrency = n
	case "max_tokens":
		c.MaxTokens = n
	case "token_budget":
		c.TokenBudget = n
	case "max_session_seconds":
		c.MaxSessionSeconds = n
	}
}

var intLiteral = regexp.MustCompile(`^-?[0-9]{1,16}$`)

func parseInt(value json.RawMessage, rule intRule) (int64, error) {
	text := string(bytes.TrimSpace(value))
	if !intLiteral.MatchString(text) {
		return 0, fmt.Errorf("must be an integer")
	}
	var n int64
	if _, err := fmt.Sscan(text, &n); err != nil {
		return 0, fmt.Errorf("must be an integer")
	}
	if n < rule.min || n > rule.max {
		return 0, fmt.Errorf("must be between %d and %d", rule.min, rule.max)
	}
	return n, nil
}

// Validate checks every rule of docs/token-format.md §4 that a value can
// break after construction in code (minting) or parsing (decoding).
func (c *Claims) Validate() error {
	checks := []func() error{
		c.validateRequired, c.validateInts, c.validateStrings,
		c.validateLists, c.validateMaps,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c *Claims) validateRequired() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("claim \"jti\" is required")
	case !jtiPattern.MatchString(c.ID):
		return fmt.Errorf("claim \"jti\" must be 16-128 characters of A-Z a-z 0-9 . _ : -")
	case c.ExpiresAt == 0:
		return fmt.Errorf("claim \"exp\" is required")
	case c.Provider == "":
		return fmt.Errorf("claim \"provider\" is required")
	case !providerPattern.MatchString(c.Provider):
		return fmt.Errorf("claim \"provider\" must match %s", providerPattern)
	}
	return nil
}

func (c *Claims) validateInts() error {
	values := map[string]int64{
		"exp": c.ExpiresAt, "iat": c.IssuedAt, "nbf": c.NotBefore,
		"max_calls": c.MaxCalls, "rpm": c.RPM, "concurrency": c.Concurrency,
		"max_tokens": c.MaxTokens, "token_budget": c.TokenBudget,
		"max_session_seconds": c.MaxSessionSeconds,
	}
	for name, n := range values {
		rule := intRules[name]
		if n != 0 && (n < rule.min || n > rule.max) {
			return fmt.Errorf("claim %q must be between %d and %d", name, rule.min, rule.max)
		}
	}
	if c.NotBefore != 0 && c.NotBefore >= c.ExpiresAt {
		return fmt.Errorf("claim \"nbf\" must be before \"exp\"")
	}
	return nil
}

func (c *Claims) validateStrings() error {
	if len(c.Subject) > 256 {
		return fmt.Errorf("claim \"sub\" must be at most 256 characters")
	}
	if c.APIKey != "" && !isPrintableToken(c.APIKey, 4096) {
		return fmt.Errorf("claim \"api_key\" must be 1-4096 printable ASCII characters without spaces")
	}
	return nil
}

func (c *Claims) validateLists() error {
	lists := []struct {
		name  string
		items []string
		check func(string) error
	}{
		{"models", c.Models, checkModelPattern},
		{"paths", c.Paths, checkPathPattern},
		{"ips", c.IPs, checkIP},
		{"origins", c.Origins, checkOrigin},
	}
	for _, l := range lists {
		if l.items == nil {
			continue
		}
		if len(l.items) == 0 || len(l.items) > 100 {
			return fmt.Errorf("claim %q must have 1-100 entries", l.name)
		}
		for _, item := range l.items {
			if err := l.check(item); err != nil {
				return fmt.Errorf("claim %q: %w", l.name, err)
			}
		}
	}
	return nil
}

func (c *Claims) validateMaps() error {
	if c.ModelMap != nil {
		if err := checkStringMap(c.ModelMap, 100, 256, 256); err != nil {
			return fmt.Errorf("claim \"model_map\": %w", err)
		}
	}
	if c.Meta != nil {
		if err := checkStringMap(c.Meta, 32, 64, 256); err != nil {
			return fmt.Errorf("claim \"meta\": %w", err)
		}
	}
	return nil
}

func checkStringMap(m map[string]string, maxEntries, maxKey, maxValue int) error {
	if len(m) == 0 || len(m) > maxEntries {
		return fmt.Errorf("must have 1-%d entries", maxEntries)
	}
	for k, v := range m {
		if k == "" || len(k) > maxKey || v == "" || len(v) > maxValue {
			return fmt.Errorf("keys must be 1-%d and values 1-%d characters", maxKey, maxValue)
		}
	}
	return nil
}

func checkModelPattern(p string) error {
	if p == "" || len(p) > 256 {
		return fmt.Errorf("each pattern must be 1-256 characters")
	}
	return nil
}

func checkPathPattern(p string) error {
	if !strings.HasPrefix(p, "/") || len(p) > 1024 {
		return fmt.Errorf("each pattern must start with / and be at most 1024 characters")
	}
	return nil
}

func checkIP(s string) error {
	if _, err := ParseIPPrefix(s); err != nil {
		return fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	return nil
}

func checkOrigin(s string) error {
	if s == "*" {
		return nil
	}
	m := originPattern.FindStringSubmatch(s)
	bad := fmt.Errorf("%q is not an origin (scheme://host[:port], lower-case, or *)", s)
	if m == nil {
		return bad
	}
	if ipv6 := m[7]; ipv6 != "" {
		if a, err := netip.ParseAddr(ipv6); err != nil || !a.Is6() {
			return bad
		}
	}
	if port := m[9]; port != "" {
		if n, _ := strconv.Atoi(port); n < 1 || n > 65535 {
			return bad
		}
	}
	return nil
}

// ParseIPPrefix accepts a single address (as a /32 or /128) or a CIDR.
func ParseIPPrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

func isPrintableToken(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

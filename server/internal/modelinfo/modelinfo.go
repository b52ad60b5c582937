// Package modelinfo is the relay's catalog of model output limits: how many
// output tokens one answer of a model may have, its context window, which
// parameter caps its output (OpenAI reasoning models refuse max_tokens) and,
// for token-billed image models, the output tokens of one image.
//
// The figures live in models.json, embedded at build time; each entry names
// the source it was taken from (see README.md). Operators override or add
// entries in configuration through New.
package modelinfo

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

//go:embed models.json
var modelsJSON []byte

// Cap parameter names accepted in models.json and in overrides.
const (
	CapMaxTokens           = "max_tokens"
	CapMaxCompletionTokens = "max_completion_tokens"
)

// Info is what the catalog knows of one model.
type Info struct {
	Model       string // the catalog entry that matched ("" when unknown)
	MaxOutput   int64  // output tokens one answer (one choice) may have
	Context     int64  // context window, 0 when unknown
	CapParam    string // "" or "max_completion_tokens"
	ImageOutput int64  // output tokens of one image (image models), else 0
	Known       bool
}

// Entry is an operator override or addition. A zero field is "not set": an
// override replaces only the fields it sets and keeps the others from the
// entry its name would otherwise resolve to. CapParam "max_tokens" clears an
// inherited "max_completion_tokens".
type Entry struct {
	MaxOutputTokens   int64  `json:"max_output_tokens"`
	ContextWindow     int64  `json:"context_window,omitempty"`
	CapParam          string `json:"cap_param,omitempty"`
	ImageOutputTokens int64  `json:"image_output_tokens,omitempty"`
}

// Catalog resolves model names to Info. It is immutable after construction
// and safe for concurrent use.
type Catalog struct {
	entries map[string]Info // keyed by normalized name; Info.Model is the key
	unknown int64
	checked string
}

// Embedded returns the catalog built into the binary, without overrides;
// Lookup reports MaxOutput 0 for a model it does not know.
func Embedded() (*Catalog, error) {
	t, err := embedded()
	if err != nil {
		return nil, err
	}
	return &Catalog{entries: t.entries, checked: t.checked}, nil
}

// New returns the embedded catalog with the operator's overrides and
// additions applied. Override names are normalized like lookups ("openai/
// gpt-4o" and "GPT-4o" both name gpt-4o). An override for a name takes
// precedence over the embedded entry the name would otherwise resolve to;
// fields it leaves zero are inherited from that entry. A name that resolves
// to nothing must set max_output_tokens. unknownMaxOutput is the MaxOutput
// Lookup reports for a model neither knows; it must not be negative.
func New(overrides map[string]Entry, unknownMaxOutput int64) (*Catalog, error) {
	if unknownMaxOutput < 0 {
		return nil, fmt.Errorf("modelinfo: unknown-model max output %d is negative", unknownMaxOutput)
	}
	t, err := embedded()
	if err != nil {
		return nil, err
	}
	entries := make(map[string]Info, len(t.entries)+len(overrides))
	for k, v := range t.entries {
		entries[k] = v
	}

	type override struct {
		key, name string
		e         Entry
	}
	list := make([]override, 0, len(overrides))
	seen := make(map[string]string, len(overrides))
	for key, e := range overrides {
		name := normalize(key)
		if name == "" {
			return nil, fmt.Errorf("modelinfo: override %q: empty model name", key)
		}
		if prev, dup := seen[name]; dup {
			a, b := min(prev, key), max(prev, key)
			return nil, fmt.Errorf("modelinfo: overrides %q and %q name the same model %q", a, b, name)
		}
		seen[name] = key
		list = append(list, override{key, name, e})
	}
	// Shorter names first: a name can only resolve to a shorter one, so an
	// override inherits from an overridden family entry, whatever the map
	// order.
	sort.Slice(list, func(i, j int) bool {
		if len(list[i].name) != len(list[j].name) {
			return len(list[i].name) < len(list[j].name)
		}
		return list[i].name < list[j].name
	})
	for _, o := range list {
		if err := checkEntry(o.e); err != nil {
			return nil, fmt.Errorf("modelinfo: override %q: %w", o.key, err)
		}
		info, _ := resolve(entries, o.name)
		info.Model, info.Known = o.name, true
		if o.e.MaxOutputTokens > 0 {
			info.MaxOutput = o.e.MaxOutputTokens
		}
		if o.e.ContextWindow > 0 {
			info.Context = o.e.ContextWindow
		}
		if o.e.ImageOutputTokens > 0 {
			info.ImageOutput = o.e.ImageOutputTokens
		}
		switch o.e.CapParam {
		case CapMaxTokens:
			info.CapParam = ""
		case CapMaxCompletionTokens:
			info.CapParam = CapMaxCompletionTokens
		}
		if info.MaxOutput <= 0 {
			return nil, fmt.Errorf("modelinfo: override %q: max_output_tokens is required for a model the catalog does not know", o.key)
		}
		if info.Context > 0 && info.MaxOutput > info.Context {
			return nil, fmt.Errorf("modelinfo: override %q: max_output_tokens %d exceeds context_window %d", o.key, info.MaxOutput, info.Context)
		}
		entries[o.name] = info
	}
	return &Catalog{entries: entries, unknown: unknownMaxOutput, checked: t.checked}, nil
}

// Lookup returns what the catalog knows of model. The name is normalized:
// anything up to the last "/" is dropped ("models/gemini-2.5-flash",
// "openai/gpt-4o-mini", "meta-llama/Llama-3.3-70B-Instruct-Turbo"), as is a
// fine-tune's "ft:" prefix, and case is ignored. An exact entry wins;
// otherwise the longest entry the name starts with, followed by "-", "@",
// ":" or ".", so dated snapshots resolve to their family
// ("gpt-4o-mini-2024-07-18" to gpt-4o-mini, "claude-3-5-sonnet@20240620" to
// claude-3-5-sonnet) while "gpt-4o" never resolves to gpt-4. An unknown
// model gets Info{MaxOutput: the catalog's unknown-model default}.
func (c *Catalog) Lookup(model string) Info {
	if c == nil {
		return Info{}
	}
	if info, ok := resolve(c.entries, normalize(model)); ok {
		return info
	}
	return Info{MaxOutput: c.unknown}
}

// Checked returns the date (YYYY-MM-DD) the embedded figures were checked.
func (c *Catalog) Checked() string {
	if c == nil {
		return ""
	}
	return c.checked
}

// normalize lowercases name and keeps what follows its last "/", without a
// fine-tune's "ft:" prefix.
func normalize(name string) string {
	s := strings.ToLower(strings.TrimSpace(name))
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimPrefix(s, "ft:")
}

// isSep reports whether b may follow a family name in a longer model name.
func isSep(b byte) bool { return b == '-' || b == '@' || b == ':' || b == '.' }

// resolve finds name's entry: itself, else its longest prefix that ends
// just before a separator.
func resolve(entries map[string]Info, name string) (Info, bool) {
	if name == "" {
		return Info{}, false
	}
	if info, ok := entries[name]; ok {
		return info, true
	}
	for i := len(name) - 1; i > 0; i-- {
		if !isSep(name[i]) {
			continue
		}
		if info, ok := entries[name[:i]]; ok {
			return info, true
		}
	}
	return Info{}, false
}

// checkEntry validates an override's values; zero means "not set".
func checkEntry(e Entry) error {
	switch {
	case e.MaxOutputTokens < 0:
		return fmt.Errorf("max_output_tokens %d is negative", e.MaxOutputTokens)
	case e.ContextWindow < 0:
		return fmt.Errorf("context_window %d is negative", e.ContextWindow)
	case e.ImageOutputTokens < 0:
		return fmt.Errorf("image_output_tokens %d is negative", e.ImageOutputTokens)
	}
	return checkCapParam(e.CapParam)
}

func checkCapParam(p string) error {
	switch p {
	case "", CapMaxTokens, CapMaxCompletionTokens:
		return nil
	}
	return fmt.Errorf("cap_param %q is not one of %q, %q or empty", p, CapMaxTokens, CapMaxCompletionTokens)
}

// The layout of models.json.
type catalogFile struct {
	Checked string       `json:"checked"`
	About   string       `json:"about"`
	Policy  string       `json:"policy"`
	Sources []fileSource `json:"sources"`
	Notes   []string     `json:"notes"`
	Models  []fileEntry  `json:"models"`
}

type fileSource struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type fileEntry struct {
	Match             string   `json:"match"`
	Provider          string   `json:"provider"`
	MaxOutputTokens   int64    `json:"max_output_tokens"`
	ContextWindow     int64    `json:"context_window,omitempty"`
	CapParam          string   `json:"cap_param,omitempty"`
	ImageOutputTokens int64    `json:"image_output_tokens,omitempty"`
	Source            string   `json:"source"`
	Also              []string `json:"also,omitempty"`
	Note              string   `json:"note,omitempty"`
}

// providers are the provider names an entry may carry.
var providers = map[string]bool{
	"openai": true, "anthropic": true, "google": true, "deepseek": true, "alibaba": true,
	"groq": true, "mistral": true, "xai": true, "moonshot": true, "together": true,
}

type table struct {
	entries map[string]Info
	checked string
}

var embedded = sync.OnceValues(func() (*table, error) { return parse(modelsJSON) })

// parse decodes and validates a catalog file.
func parse(data []byte) (*table, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f catalogFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("modelinfo: catalog: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("modelinfo: catalog: data after the top-level object")
	}
	if _, err := time.Parse(time.DateOnly, f.Checked); err != nil {
		return nil, fmt.Errorf("modelinfo: catalog: checked %q is not a YYYY-MM-DD date", f.Checked)
	}
	if len(f.Models) == 0 {
		return nil, errors.New("modelinfo: catalog: no models")
	}
	entries := make(map[string]Info, len(f.Models))
	for i, m := range f.Models {
		if err := m.check(); err != nil {
			return nil, fmt.Errorf("modelinfo: catalog: model %d (%q): %w", i, m.Match, err)
		}
		if _, dup := entries[m.Match]; dup {
			return nil, fmt.Errorf("modelinfo: catalog: model %q listed twice", m.Match)
		}
		info := Info{Model: m.Match, MaxOutput: m.MaxOutputTokens, Context: m.ContextWindow,
			ImageOutput: m.ImageOutputTokens, Known: true}
		if m.CapParam == CapMaxCompletionTokens {
			info.CapParam = CapMaxCompletionTokens
		}
		entries[m.Match] = info
	}
	return &table{entries: entries, checked: f.Checked}, nil
}

func (m fileEntry) check() error {
	switch {
	case m.Match == "" || normalize(m.Match) != m.Match:
		return errors.New("match must be a lowercase model name without a provider prefix")
	case !providers[m.Provider]:
		return fmt.Errorf("unknown provider %q", m.Provider)
	case m.MaxOutputTokens <= 0:
		return fmt.Errorf("max_output_tokens %d is not positive", m.MaxOutputTokens)
	case m.ContextWindow < 0:
		return fmt.Errorf("context_window %d is negative", m.ContextWindow)
	case m.ContextWindow > 0 && m.MaxOutputTokens > m.ContextWindow:
		return fmt.Errorf("max_output_tokens %d exceeds context_window %d", m.MaxOutputTokens, m.ContextWindow)
	case m.ImageOutputTokens < 0:
		return fmt.Errorf("image_output_tokens %d is negative", m.ImageOutputTokens)
	}
	if err := checkCapParam(m.CapParam); err != nil {
		return err
	}
	for _, u := range append([]string{m.Source}, m.Also...) {
		if err := checkURL(u); err != nil {
			return err
		}
	}
	return nil
}

// checkURL accepts an absolute https URL.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("source %q is not an https URL", s)
	}
	return nil
}

package metrics

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

const (
	maxLabelLen = 64
	// labelOther replaces values beyond a dimension's cap.
	labelOther = "other"
	// labelNone stands for an empty value, which Prometheus would treat
	// as an absent label.
	labelNone = "none"
	// labelRedacted replaces values that look like credentials.
	labelRedacted = "redacted"
)

// Caps per dimension. Providers are configured by the operator, codes and
// kinds by the relay, so their caps are only a safety net; models come
// straight from client request bodies.
const (
	maxModels    = 100
	maxProviders = 64
	maxCodes     = 64
	maxKinds     = 32
	maxOps       = 32
)

// labelSet remembers the first max distinct values of one dimension and
// maps every later newcomer to "other".
// known caches raw → label for the values seen first (a bounded number),
// so the values every request repeats are not sanitized again each time.
type labelSet struct {
	mu    sync.Mutex
	max   int
	seen  map[string]struct{}
	known map[string]string
}

func newLabelSet(max int) *labelSet {
	return &labelSet{max: max, seen: make(map[string]struct{}), known: make(map[string]string)}
}

func (s *labelSet) value(raw string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.known[raw]; ok {
		return v
	}
	v := sanitize(raw)
	if _, ok := s.seen[v]; !ok {
		if len(s.seen) >= s.max {
			v = labelOther
		} else {
			s.seen[v] = struct{}{}
		}
	}
	if len(s.known) < 4*s.max {
		s.known[raw] = v
	}
	return v
}

type labelSets struct {
	models, providers, codes, kinds, ops *labelSet
}

func newLabelSets() labelSets {
	return labelSets{
		models:    newLabelSet(maxModels),
		providers: newLabelSet(maxProviders),
		codes:     newLabelSet(maxCodes),
		kinds:     newLabelSet(maxKinds),
		ops:       newLabelSet(maxOps),
	}
}

// sanitize makes an untrusted string a safe label value: printable,
// valid UTF-8, at most maxLabelLen bytes, never a credential.
func sanitize(raw string) string {
	if raw == "" {
		return labelNone
	}
	if looksLikeSecret(raw) {
		return labelRedacted
	}
	var b strings.Builder
	for _, r := range raw {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '_'
		}
		if b.Len()+utf8.RuneLen(r) > maxLabelLen {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// secretPrefixes are the shapes of provider API keys and of JOSE tokens
// (base64url of `{"`). A client that pastes its relay token or a real key
// into the model field must not get it stored in Prometheus, where far
// more people can read it than can read the relay's config.
var secretPrefixes = []string{"sk-", "sk_", "AIza", "xai-", "gsk_", "eyJ", "Bearer "}

func looksLikeSecret(s string) bool {
	for _, p := range secretPrefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

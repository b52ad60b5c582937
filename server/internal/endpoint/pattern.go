package endpoint

import (
	"fmt"
	"strings"
)

// A pattern is a path template of "/"-separated segments:
//
//	name            the literal segment
//	*               any one segment
//	**              any number of segments, none included
//	{model}         any one segment, which names the model
//	{model}:verb    a segment "<model>:verb" (Gemini's custom methods)
//
// "**" lets one entry match however a client's base URL is written
// (/v1/chat/completions, /chat/completions, /openai/v1/chat/completions).
type pattern struct {
	segs  []segment
	score int // literal segments: the more, the more specific
	// tail: the pattern is "/**/…" with no other "**", so what follows
	// the "**" is anchored at the end of the path.
	tail bool
}

type segment struct {
	kind  segKind
	text  string // the literal, or the verb after ':'
	model bool   // this segment names the model
}

type segKind int

const (
	literal segKind = iota
	anyOne
	anyMany
	verb // {model}:text
)

func mustCompile(s string) pattern {
	p, err := compile(s)
	if err != nil {
		panic(err)
	}
	return p
}

func compile(s string) (pattern, error) {
	if !strings.HasPrefix(s, "/") {
		return pattern{}, fmt.Errorf("pattern %q must start with /", s)
	}
	var p pattern
	for _, part := range strings.Split(strings.Trim(s, "/"), "/") {
		seg, err := compileSegment(part)
		if err != nil {
			return pattern{}, fmt.Errorf("pattern %q: %w", s, err)
		}
		if seg.kind == literal || seg.kind == verb {
			p.score++
		}
		p.segs = append(p.segs, seg)
	}
	p.tail = p.segs[0].kind == anyMany && !hasAnyMany(p.segs[1:])
	return p, nil
}

func compileSegment(part string) (segment, error) {
	switch {
	case part == "":
		return segment{}, fmt.Errorf("empty segment")
	case part == "*":
		return segment{kind: anyOne}, nil
	case part == "**":
		return segment{kind: anyMany}, nil
	case part == "{model}":
		return segment{kind: anyOne, model: true}, nil
	case strings.HasPrefix(part, "{model}:"):
		v := strings.TrimPrefix(part, "{model}:")
		if v == "" {
			return segment{}, fmt.Errorf("empty verb")
		}
		return segment{kind: verb, text: v, model: true}, nil
	case strings.ContainsAny(part, "{}*:"):
		return segment{}, fmt.Errorf("bad segment %q", part)
	}
	return segment{kind: literal, text: part}, nil
}

// match reports whether path segments match, the model they name and
// the index of the segment naming it (-1 for none).
func (p pattern) match(path []string) (model string, at int, ok bool) {
	if p.tail {
		rest := p.segs[1:]
		if len(path) < len(rest) {
			return "", -1, false
		}
		off := len(path) - len(rest)
		model, at, ok = matchFrom(rest, path[off:])
		if at >= 0 {
			at += off
		}
		return model, at, ok
	}
	return matchFrom(p.segs, path)
}

func hasAnyMany(segs []segment) bool {
	for _, s := range segs {
		if s.kind == anyMany {
			return true
		}
	}
	return false
}

func matchFrom(segs []segment, path []string) (model string, at int, ok bool) {
	if len(segs) == 0 {
		return "", -1, len(path) == 0
	}
	s := segs[0]
	if s.kind == anyMany {
		for skip := 0; skip <= len(path); skip++ {
			if m, at, ok := matchFrom(segs[1:], path[skip:]); ok {
				if at >= 0 {
					at += skip
				}
				return m, at, true
			}
		}
		return "", -1, false
	}
	if len(path) == 0 {
		return "", -1, false
	}
	name, ok := s.matchOne(path[0])
	if !ok {
		return "", -1, false
	}
	rest, at, ok := matchFrom(segs[1:], path[1:])
	switch {
	case !ok:
		return "", -1, false
	case s.model:
		return name, 0, true
	case at >= 0:
		return rest, at + 1, true
	}
	return rest, -1, true
}

// matchOne matches one path segment; name is the model part of it.
func (s segment) matchOne(seg string) (name string, ok bool) {
	switch s.kind {
	case literal:
		return "", seg == s.text
	case anyOne:
		return seg, seg != ""
	case verb:
		name, v, found := strings.Cut(seg, ":")
		return name, found && v == s.text && name != ""
	}
	return "", false
}

package credentials

import (
	"fmt"
	"strings"
	"unicode"
)

// Resolve reads the keys refs point at, in order. File contents are
// trimmed (secrets mounted from files usually end in a newline). getenv
// and readFile are injected so tests need neither a real environment nor
// a file system; pass os.Getenv and os.ReadFile in production.
//
// Errors name the variable or file, never the value.
func Resolve(refs []Ref, getenv func(string) string, readFile func(string) ([]byte, error)) ([]string, error) {
	keys := make([]string, 0, len(refs))
	from := make(map[string]Ref, len(refs))
	for _, ref := range refs {
		key, err := resolveOne(ref, getenv, readFile)
		if err != nil {
			return nil, err
		}
		// A repeated key would get double weight in the rotation and
		// escape benching through its twin.
		if first, dup := from[key]; dup {
			return nil, fmt.Errorf("credentials: %s holds the same key as %s", ref, first)
		}
		from[key] = ref
		keys = append(keys, key)
	}
	return keys, nil
}

func resolveOne(ref Ref, getenv func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	if err := ref.Validate(); err != nil {
		return "", err
	}
	raw, err := read(ref, getenv, readFile)
	if err != nil {
		return "", err
	}
	key := strings.TrimSpace(raw)
	if key == "" {
		return "", fmt.Errorf("credentials: %s is empty", ref)
	}
	// Whitespace or control bytes inside a key would corrupt (or, with a
	// newline, inject into) the upstream auth header.
	if strings.IndexFunc(key, badKeyRune) >= 0 {
		return "", fmt.Errorf("credentials: %s contains whitespace or control characters inside the key", ref)
	}
	return key, nil
}

func read(ref Ref, getenv func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	if ref.Env != "" {
		return getenv(ref.Env), nil
	}
	data, err := readFile(ref.File)
	if err != nil {
		// The read error names the path (os.PathError), never contents.
		return "", fmt.Errorf("credentials: reading %s: %w", ref, err)
	}
	return string(data), nil
}

func badKeyRune(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar
}

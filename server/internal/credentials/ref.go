// Package credentials holds the provider API keys the relay itself owns,
// for tokens that carry no api_key. Keys are referenced from configuration
// by environment variable or file, never written inline, and no error, log
// line or identifier in this package ever contains a key's value.
package credentials

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Ref points at one API key: exactly one of Env or File is set.
type Ref struct {
	Env  string `json:"env,omitempty"`
	File string `json:"file,omitempty"`
}

// Validate reports whether exactly one source is set.
func (r Ref) Validate() error {
	switch {
	case r.Env == "" && r.File == "":
		return errors.New(`credentials: api_keys entry needs "env" or "file"`)
	case r.Env != "" && r.File != "":
		return errors.New(`credentials: api_keys entry has both "env" and "file"; use one`)
	}
	return nil
}

// String names the source, for errors and logs; it never holds a key.
func (r Ref) String() string {
	if r.Env != "" {
		return "env " + r.Env
	}
	return "file " + r.File
}

// UnmarshalJSON rejects inline keys (`"api_keys": ["sk-..."]`) and unknown
// fields (`{"key": "sk-..."}`) with errors that do not echo the value, so a
// misconfigured key never reaches a startup log.
func (r *Ref) UnmarshalJSON(data []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte(`"`)) {
		return errors.New(`credentials: api_keys entries must be {"env": NAME} or {"file": PATH}; inline keys are not allowed`)
	}
	type plain Ref // no UnmarshalJSON: avoids recursion
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf(`credentials: api_keys entry: only "env" or "file" are allowed: %w`, err)
	}
	*r = Ref(p)
	return r.Validate()
}

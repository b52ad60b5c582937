// Package reqbody reads what the relay needs from a request body without
// changing it: the model asked for and whether a stream is wanted.
package reqbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/relayapi/relayapi/server/internal/jsonscan"
	"io"
	"mime"
	"mime/multipart"
	"strings"
)

// Info is what a body says about the call.
type Info struct {
	Model  string
	Stream bool
}

// ErrModelNotString is a JSON body whose "model" is present but not a string.
var ErrModelNotString = errors.New(`"model" must be a string`)

// ErrUnreadable is a body that claims a format it does not have.
var ErrUnreadable = errors.New("the body is not valid for its Content-Type")

// ErrAmbiguous is a body that names the model or the stream flag twice,
// or in another spelling ("MODEL", "ſtream"): providers do not agree on
// which one counts (Go servers match keys case-insensitively and take the
// last, some parsers the first, multipart servers the last part), so the
// relay would check one model while another is served.
var ErrAmbiguous = errors.New("the body names the model or stream more than once")

// Inspect parses body according to contentType. Bodies of other types give
// an empty Info and no error.
func Inspect(body []byte, contentType string) (Info, error) {
	mediaType, params, _ := mime.ParseMediaType(contentType)
	switch {
	case len(body) == 0:
		return Info{}, nil
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json") || (mediaType == "" && looksLikeJSON(body)):
		return inspectJSON(body)
	case mediaType == "multipart/form-data":
		return inspectMultipart(body, params["boundary"])
	}
	return Info{}, nil
}

func looksLikeJSON(body []byte) bool {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

func inspectJSON(body []byte) (Info, error) {
	// Keys are matched exactly (after unescaping), never the way
	// encoding/json matches struct fields, without regard to case:
	// {"model":"a","MODEL":"b"} read as "b" while the provider, matching
	// exactly, serves "a" would be a way around the token's models list.
	// Duplicate keys resolve to the last, as in the JSON parsers providers
	// use. The body is validated first, so the scan below walks
	// well-formed JSON.
	if !json.Valid(body) {
		return Info{}, ErrUnreadable
	}
	i := jsonscan.SkipSpace(body, 0)
	if body[i] == 'n' {
		return Info{}, nil // null: no members
	}
	if body[i] != '{' {
		return Info{}, ErrUnreadable
	}
	var model, stream []byte
	seen := [2]bool{}
	for it := jsonscan.Object(body); ; {
		key, value, ok := it.Member()
		if !ok {
			break
		}
		i, exact := readMember(key)
		switch {
		case i < 0:
			continue
		case seen[i] || !exact:
			return Info{}, ErrAmbiguous
		case i == 0:
			model = value
		default:
			stream = value
		}
		seen[i] = true
	}
	info := Info{Stream: string(stream) == "true"}
	if model == nil || string(model) == "null" {
		return info, nil
	}
	if jsonscan.PlainString(model) {
		info.Model = string(model[1 : len(model)-1])
		return info, nil
	}
	if err := json.Unmarshal(model, &info.Model); err != nil {
		return Info{}, ErrModelNotString
	}
	return info, nil
}

// readMember says which member the relay reads a key names (0 model,
// 1 stream, -1 neither), and whether it is spelt exactly.
func readMember(key []byte) (int, bool) {
	for i, name := range []string{"model", "stream"} {
		if jsonscan.KeyIs(key, name) {
			return i, true
		}
	}
	var buf [64]byte
	switch string(jsonscan.AppendFold(buf[:0], key)) {
	case "MODEL":
		return 0, false
	case "STREAM":
		return 1, false
	}
	return -1, false
}

func inspectMultipart(body []byte, boundary string) (Info, error) {
	if boundary == "" {
		return Info{}, ErrUnreadable
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	var info Info
	found := false
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			return info, nil
		}
		if err != nil {
			return Info{}, ErrUnreadable
		}
		if !strings.EqualFold(part.FormName(), "model") {
			continue
		}
		// Starlette and most form parsers keep the last of two fields,
		// others the first: two model parts (or one spelt otherwise) are
		// refused.
		if found || part.FormName() != "model" || part.FileName() != "" {
			return Info{}, ErrAmbiguous
		}
		value, err := io.ReadAll(io.LimitReader(part, 1024))
		if err != nil {
			return Info{}, ErrUnreadable
		}
		info.Model, found = strings.TrimSpace(string(value)), true
	}
}

// ModelFromPath finds a model named in the URL path, as Gemini does
// (/v1beta/models/gemini-1.5-pro:generateContent) and Azure OpenAI does
// (/openai/deployments/{deployment}/chat/completions).
func ModelFromPath(path string) string {
	for _, marker := range []string{"/models/", "/deployments/", "/tunedModels/"} {
		if _, rest, ok := strings.Cut(path, marker); ok {
			name, _, _ := strings.Cut(rest, "/")
			name, _, _ = strings.Cut(name, ":")
			return name
		}
	}
	return ""
}

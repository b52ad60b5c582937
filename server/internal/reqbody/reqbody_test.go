package reqbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestModelOrStreamTwiceOrInAnotherSpellingIsRefused(t *testing.T) {
	for _, body := range []string{
		`{"MODEL":"gpt-4o-mini","model":"gpt-4o"}`,
		`{"model":"gpt-4o","Model":"gpt-4.1"}`,
		`{"model":"a","model":"b"}`,
		`{"mod\u0065l":"a","model":"b"}`,
		`{"stream":false,"STREAM":true}`,
		`{"ſtream":true}`,
		`{"model":"a","moDel":"b"}`,
	} {
		if _, err := Inspect([]byte(body), "application/json"); !errors.Is(err, ErrAmbiguous) {
			t.Errorf("%s: %v, want ErrAmbiguous", body, err)
		}
	}
	if info, err := Inspect([]byte(`{"model":"a","models":["b"],"streaming":true}`), "application/json"); err != nil || info.Model != "a" {
		t.Errorf("other members are not the model: %+v %v", info, err)
	}
}

func TestTwoMultipartModelFieldsAreRefused(t *testing.T) {
	for _, second := range []string{"model", "MODEL"} {
		body := "--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt-image-1\r\n" +
			"--b\r\nContent-Disposition: form-data; name=\"" + second + "\"\r\n\r\ndall-e-3\r\n--b--\r\n"
		if _, err := Inspect([]byte(body), "multipart/form-data; boundary=b"); !errors.Is(err, ErrAmbiguous) {
			t.Errorf("second part %q: %v", second, err)
		}
	}
}

func TestBodiesThatCannotNameAModel(t *testing.T) {
	if _, err := Inspect([]byte(`{"model":42}`), "application/json"); !errors.Is(err, ErrModelNotString) {
		t.Fatalf("number model: %v", err)
	}
	if _, err := Inspect([]byte(`{"model":`), "application/json"); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("truncated: %v", err)
	}
	if info, err := Inspect([]byte(`plain text`), "text/plain"); err != nil || info.Model != "" {
		t.Fatalf("text: %+v %v", info, err)
	}
	if info, err := Inspect([]byte(` {"model":"m"}`), ""); err != nil || info.Model != "m" {
		t.Fatalf("untyped JSON: %+v %v", info, err)
	}
}

func TestMultipartModelFieldIsFound(t *testing.T) {
	body := "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--b--\r\n"
	info, err := Inspect([]byte(body), "multipart/form-data; boundary=b")
	if err != nil || info.Model != "whisper-1" {
		t.Fatalf("%+v %v", info, err)
	}
}

func TestModelFromPath(t *testing.T) {
	cases := map[string]string{
		"/v1beta/models/gemini-1.5-pro:generateContent":             "gemini-1.5-pro",
		"/openai/deployments/my-gpt4/chat/completions":              "my-gpt4",
		"/v1/models/gpt-4o":                                         "gpt-4o",
		"/v1/chat/completions":                                      "",
		"/v1beta/tunedModels/my-tuned:generateContent":              "my-tuned",
		"/v1beta/models/gemini-2.0-flash:streamGenerateContent?x=1": "gemini-2.0-flash",
	}
	for path, want := range cases {
		if got := ModelFromPath(path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}

func FuzzInspect(f *testing.F) {
	f.Add([]byte(`{"model":"gpt-4o","stream":true}`), "application/json")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nm\r\n--b--"), "multipart/form-data; boundary=b")
	f.Add([]byte(`{"mod\u0065l":"a","MODEL":"b","stream":true,"x":[{"model":1}]}`), "application/json")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		got, err := Inspect(body, contentType)
		if len(body) == 0 || contentType != "application/json" {
			return
		}
		want, wantErr := referenceJSON(body)
		if got != want || !errors.Is(err, wantErr) {
			t.Fatalf("%q: got %+v, %v; encoding/json reads %+v, %v", body, got, err, want, wantErr)
		}
	})
}

// referenceJSON is the straightforward reading inspectJSON must agree
// with: the whole body decoded by encoding/json into a map, after the
// top-level keys are checked for a second model or stream.
func referenceJSON(body []byte) (Info, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return Info{}, ErrUnreadable
	}
	if ambiguousKeys(body) {
		return Info{}, ErrAmbiguous
	}
	var info Info
	if raw, ok := top["model"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &info.Model); err != nil {
			return Info{}, ErrModelNotString
		}
	}
	info.Stream = string(top["stream"]) == "true"
	return info, nil
}

func TestEscapedKeysAndValuesDecodeLikeEncodingJSON(t *testing.T) {
	for body, want := range map[string]Info{
		`{"mod\u0065l":"gpt-4o","str\u0065am":true}`:                   {Model: "gpt-4o", Stream: true},
		`{"model":"gpt-\u0034o"}`:                                      {Model: "gpt-4o"},
		` { "messages" : [ {"model":"inner"} ] , "model" : "outer" } `: {Model: "outer"},
		`{"x":{"model":"nested"},"stream":false}`:                      {},
		`{"model":null,"stream":"true"}`:                               {},
		`null`:                                                         {},
		`{}`:                                                           {},
		`{"model":"caf\u00e9"}`:                                        {Model: "café"},
	} {
		got, err := Inspect([]byte(body), "application/json")
		if err != nil || got != want {
			t.Errorf("%s: got %+v, %v; want %+v", body, got, err, want)
		}
	}
	for _, bad := range []string{`[1,2]`, `{"model":"a",}`, `{"model":"a"} trailing`, `"str"`, `{"a":1`} {
		if _, err := Inspect([]byte(bad), "application/json"); !errors.Is(err, ErrUnreadable) {
			t.Errorf("%s: err %v, want ErrUnreadable", bad, err)
		}
	}
	for _, bad := range []string{`{"model":["a"]}`, `{"mod\u0065l":1}`, `{"model":true}`} {
		if _, err := Inspect([]byte(bad), "application/json"); !errors.Is(err, ErrModelNotString) {
			t.Errorf("%s: err %v, want ErrModelNotString", bad, err)
		}
	}
}

// ambiguousKeys walks the top-level keys with a json.Decoder.
func ambiguousKeys(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		key := tok.(string)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
		for _, name := range []string{"model", "stream"} {
			if !strings.EqualFold(strings.ReplaceAll(key, "_", ""), name) {
				continue
			}
			if seen[name] || key != name {
				return true
			}
			seen[name] = true
		}
	}
	return false
}

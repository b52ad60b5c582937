package reqbody

import (
	"errors"
	"testing"
)

func TestModelIsReadWithAnExactKeyMatch(t *testing.T) {
	info, err := Inspect([]byte(`{"MODEL":"gpt-4o-mini","model":"gpt-4o","Stream":true}`), "application/json")
	if err != nil || info.Model != "gpt-4o" || info.Stream {
		t.Fatalf("%+v %v", info, err)
	}
}

func TestDuplicateModelKeysResolveToTheLastLikeProviders(t *testing.T) {
	info, _ := Inspect([]byte(`{"model":"a","model":"b"}`), "application/json")
	if info.Model != "b" {
		t.Fatalf("%q", info.Model)
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
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		_, _ = Inspect(body, contentType)
	})
}

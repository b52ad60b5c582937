package mockprovider

import (
	"fmt"
	"testing"
)

func TestGPTImageOutputTokensByQualityAndSize(t *testing.T) {
	_, srv := newServer(t, Options{})
	for quality, sizes := range gptImageOutputTokens {
		for size, per := range sizes {
			body := fmt.Sprintf(`{"model":"gpt-image-1","prompt":"a cat","n":2,"quality":"%s","size":"%s"}`, quality, size)
			_, m := postJSON(t, srv.URL+"/v1/images/generations", body)
			in := PromptTokens("a cat")
			if num(t, m, "usage", "output_tokens") != 2*per || num(t, m, "usage", "input_tokens") != in ||
				num(t, m, "usage", "total_tokens") != in+2*per || len(at(t, m, "data").([]any)) != 2 {
				t.Errorf("%s %s: %v", quality, size, m)
			}
		}
	}
	for _, body := range []string{`{"model":"gpt-image-1","prompt":"a cat"}`, `{"model":"gpt-image-1","prompt":"a cat","quality":"auto","size":"auto"}`} {
		if _, m := postJSON(t, srv.URL+"/v1/images/generations", body); num(t, m, "usage", "output_tokens") != 4160 {
			t.Errorf("%s: auto is not billed as high 1024x1024: %v", body, m["usage"])
		}
	}
	if code, m := postJSON(t, srv.URL+"/v1/images/generations", `{"model":"gpt-image-1","prompt":"a cat","size":"512x512"}`); code != 400 ||
		str(t, m, "error", "param") != "size" {
		t.Errorf("bad size: %d %v", code, m)
	}
}

func TestDallEReportsNoUsage(t *testing.T) {
	_, srv := newServer(t, Options{})
	for _, model := range []string{"dall-e-2", "dall-e-3"} {
		_, m := postJSON(t, srv.URL+"/v1/images/generations", `{"model":"`+model+`","prompt":"a cat"}`)
		if _, ok := m["usage"]; ok {
			t.Errorf("%s reports usage: %v", model, m)
		}
	}
}

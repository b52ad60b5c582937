package rewrite

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/relayapi/relayapi/server/internal/usage"
)

const chatBody = `{"model":"fast","messages":[{"role":"user","content":"Hi"}],"temperature":0.70,"seed":12345678901234567890,"max_tokens":4096}`

type applyCase struct {
	name   string
	format usage.Format
	body   string
	plan   Plan
	want   string // "" = unchanged
}

var applyCases = []applyCase{
	{"model is mapped", usage.OpenAI, `{"model":"fast","messages":[]}`, Plan{Model: "gpt-4o-mini"}, `{"model":"gpt-4o-mini","messages":[]}`},
	{"same model is no change", usage.OpenAI, `{"model":"gpt-4o-mini","messages":[]}`, Plan{Model: "gpt-4o-mini"}, ""},
	{"absent model is not added", usage.OpenAI, `{"input":"x"}`, Plan{Model: "m"}, ""},
	{"every duplicated model is mapped", usage.OpenAI, `{"model":"a","model":"b"}`, Plan{Model: "c"}, `{"model":"c","model":"c"}`},
	{"escaped key still names the model", usage.OpenAI, `{"m\u006fdel":"a"}`, Plan{Model: "c"}, `{"m\u006fdel":"c"}`},
	{"case-different key is another member", usage.OpenAI, `{"Model":"a"}`, Plan{Model: "c"}, ""},
	{"max_tokens above the cap is clamped", usage.OpenAI, chatBody, Plan{MaxTokens: 100},
		`{"model":"fast","messages":[{"role":"user","content":"Hi"}],"temperature":0.70,"seed":12345678901234567890,"max_tokens":100}`},
	{"cap below the limit is kept", usage.OpenAI, `{"messages":[],"max_tokens":50}`, Plan{MaxTokens: 100}, ""},
	{"every cap member is clamped", usage.OpenAI, `{"messages":[],"max_tokens":500,"max_completion_tokens":150,"max_output_tokens":20}`, Plan{MaxTokens: 100},
		`{"messages":[],"max_tokens":100,"max_completion_tokens":100,"max_output_tokens":20}`},
	{"float and exponent caps are compared", usage.OpenAI, `{"messages":[],"max_tokens":1e3}`, Plan{MaxTokens: 100}, `{"messages":[],"max_tokens":100}`},
	{"a string cap is replaced", usage.OpenAI, `{"messages":[],"max_tokens":"50"}`, Plan{MaxTokens: 100}, `{"messages":[],"max_tokens":100}`},
	{"a null cap is set", usage.OpenAI, `{"messages":[],"max_completion_tokens":null}`, Plan{MaxTokens: 100}, `{"messages":[],"max_completion_tokens":100}`},
	{"a null cap beside a real one is left", usage.OpenAI, `{"messages":[],"max_tokens":null,"max_completion_tokens":10}`, Plan{MaxTokens: 100}, ""},
	{"chat without a cap gets max_tokens", usage.OpenAI, `{"model":"gpt-4o","messages":[]}`, Plan{MaxTokens: 100}, `{"model":"gpt-4o","messages":[],"max_tokens":100}`},
	{"reasoning models get max_completion_tokens", usage.OpenAI, `{"model":"o3-mini","messages":[]}`, Plan{MaxTokens: 100}, `{"model":"o3-mini","messages":[],"max_completion_tokens":100}`},
	{"the mapped model decides the cap name", usage.OpenAI, `{"model":"smart","messages":[]}`, Plan{Model: "gpt-5-mini", MaxTokens: 100}, `{"model":"gpt-5-mini","messages":[],"max_completion_tokens":100}`},
	{"responses API gets max_output_tokens", usage.OpenAI, `{"model":"gpt-4.1","input":"Hi"}`, Plan{MaxTokens: 100, Path: "/v1/responses"}, `{"model":"gpt-4.1","input":"Hi","max_output_tokens":100}`},
	{"legacy completions get max_tokens", usage.OpenAI, `{"prompt":"Hi"}`, Plan{MaxTokens: 100, Path: "/v1/completions"}, `{"prompt":"Hi","max_tokens":100}`},
	{"embeddings get no cap", usage.OpenAI, `{"input":"Hi"}`, Plan{MaxTokens: 100, Path: "/v1/embeddings"}, ""},
	{"images get no cap", usage.OpenAI, `{"prompt":"a cat"}`, Plan{MaxTokens: 100, Path: "/v1/images/generations"}, ""},
	{"unknown endpoint without path gets no cap", usage.OpenAI, `{"prompt":"a cat"}`, Plan{MaxTokens: 100}, ""},
	{"anthropic max_tokens is clamped", usage.Anthropic, `{"model":"claude","max_tokens":8192,"messages":[]}`, Plan{MaxTokens: 1024}, `{"model":"claude","max_tokens":1024,"messages":[]}`},
	{"anthropic ignores OpenAI cap names", usage.Anthropic, `{"max_tokens":10,"max_completion_tokens":9999,"messages":[]}`, Plan{MaxTokens: 100}, ""},
	{"anthropic without max_tokens gets it", usage.Anthropic, `{"messages":[]}`, Plan{MaxTokens: 100, Path: "/v1/messages"}, `{"messages":[],"max_tokens":100}`},
	{"anthropic count_tokens gets no cap", usage.Anthropic, `{"messages":[]}`, Plan{MaxTokens: 100, Path: "/v1/messages/count_tokens"}, ""},
	{"stream_options is added", usage.OpenAI, `{"messages":[],"stream":true}`, Plan{IncludeUsage: true}, `{"messages":[],"stream":true,"stream_options":{"include_usage":true}}`},
	{"stream_options is merged", usage.OpenAI, `{"messages":[],"stream":true,"stream_options":{"include_obfuscation":false , "x":[1]}}`, Plan{IncludeUsage: true},
		`{"messages":[],"stream":true,"stream_options":{"include_obfuscation":false,"x":[1],"include_usage":true}}`},
	{"include_usage false is turned on", usage.OpenAI, `{"messages":[],"stream":true,"stream_options":{"include_usage":false,"y":2}}`, Plan{IncludeUsage: true},
		`{"messages":[],"stream":true,"stream_options":{"include_usage":true,"y":2}}`},
	{"include_usage already on is no change", usage.OpenAI, `{"messages":[], "stream":true, "stream_options": { "include_usage" : true }}`, Plan{IncludeUsage: true}, ""},
	{"null stream_options is replaced", usage.OpenAI, `{"messages":[],"stream":true,"stream_options":null}`, Plan{IncludeUsage: true},
		`{"messages":[],"stream":true,"stream_options":{"include_usage":true}}`},
	{"no stream_options without stream", usage.OpenAI, `{"messages":[],"stream":false}`, Plan{IncludeUsage: true}, ""},
	{"no stream_options for the responses API", usage.OpenAI, `{"input":"x","stream":true}`, Plan{IncludeUsage: true, Path: "/v1/responses"}, ""},
	{"no stream_options for anthropic", usage.Anthropic, `{"messages":[],"stream":true}`, Plan{IncludeUsage: true}, ""},
	{"all at once keep order and bytes", usage.OpenAI, "{\n  \"model\": \"fast\",\n  \"messages\": [ {\"role\": \"user\", \"content\": \"\\u4f60\\u597d\"} ],\n  \"stream\": true,\n  \"n\": 1.50E+2\n}\n",
		Plan{Model: "gpt-4o", MaxTokens: 64, IncludeUsage: true},
		`{"model":"gpt-4o","messages":[ {"role": "user", "content": "\u4f60\u597d"} ],"stream":true,"n":1.50E+2,"max_tokens":64,"stream_options":{"include_usage":true}}`},
}

func TestApplyRewritesOnlyWhatThePlanAsks(t *testing.T) {
	for _, c := range applyCases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			out, changed, err := Apply(c.format, body, c.plan)
			if err != nil {
				t.Fatal(err)
			}
			if c.want == "" {
				if changed || &out[0] != &body[0] || len(out) != len(body) {
					t.Errorf("changed=%v out=%s, want the same slice back", changed, out)
				}
				return
			}
			if !changed || string(out) != c.want {
				t.Errorf("changed=%v\n got %s\nwant %s", changed, out, c.want)
			}
			if !json.Valid(out) {
				t.Errorf("invalid JSON: %s", out)
			}
		})
	}
}

func TestApplyWithEmptyPlanDoesNotReadTheBody(t *testing.T) {
	body := []byte("not json")
	out, changed, err := Apply(usage.OpenAI, body, Plan{Path: "/v1/chat/completions"})
	if err != nil || changed || &out[0] != &body[0] {
		t.Errorf("got %q %v %v, want the body back untouched", out, changed, err)
	}
}

func TestApplyRefusesBodiesThatAreNotObjects(t *testing.T) {
	for _, body := range []string{``, `   `, `[1,2]`, `"x"`, `{"model":`, `{"a":1}{"b":2}`, `{"a":1,}`, "\xff"} {
		out, changed, err := Apply(usage.OpenAI, []byte(body), Plan{Model: "m"})
		if !errors.Is(err, ErrNotObject) || changed || out != nil {
			t.Errorf("Apply(%q) = %q, %v, %v; want ErrNotObject", body, out, changed, err)
		}
	}
}

func TestApplyKeepsLargeNumbersExactly(t *testing.T) {
	out, _, err := Apply(usage.OpenAI, []byte(chatBody), Plan{Model: "x"})
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Seed json.Number `json:"seed"`
	}
	if err := json.Unmarshal(out, &back); err != nil || back.Seed != "12345678901234567890" {
		t.Errorf("seed became %q (%v)", back.Seed, err)
	}
}

func TestRequestedMaxTokensReadsTheLargestCap(t *testing.T) {
	cases := []struct {
		format usage.Format
		body   string
		want   int64
	}{
		{usage.OpenAI, `{"messages":[],"max_tokens":300}`, 300},
		{usage.OpenAI, `{"max_completion_tokens":100,"max_tokens":200}`, 200},
		{usage.OpenAI, `{"input":"x","max_output_tokens":50.5}`, 51},
		{usage.OpenAI, `{"messages":[]}`, 0},
		{usage.OpenAI, `{"max_tokens":null}`, 0},
		{usage.OpenAI, `{"max_tokens":-5}`, 0},
		{usage.OpenAI, `{"max_tokens":"300"}`, 0},
		{usage.OpenAI, `{"max_tokens":1e400}`, 0},
		{usage.OpenAI, `{"max_tokens":1e300}`, 1 << 62},
		{usage.Anthropic, `{"max_tokens":1024,"max_completion_tokens":9}`, 1024},
		{usage.OpenAI, `garbage`, 0},
	}
	for _, c := range cases {
		if got := RequestedMaxTokens(c.format, []byte(c.body)); got != c.want {
			t.Errorf("RequestedMaxTokens(%s) = %d, want %d", c.body, got, c.want)
		}
	}
}

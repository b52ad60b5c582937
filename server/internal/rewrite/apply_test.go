package rewrite

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/relayapi/relayapi/server/internal/endpoint"
)

const chatBody = `{"model":"fast","messages":[{"role":"user","content":"Hi"}],"temperature":0.70,"seed":12345678901234567890,"max_tokens":4096}`

type applyCase struct {
	name string
	body string
	plan Plan
	want string // "" = unchanged
}

var catalog = endpoint.Default()

// route resolves a POST path among every family.
func route(path string) endpoint.Route {
	return catalog.Resolve(endpoint.Families, "POST", path)
}

var (
	chat       = route("/v1/chat/completions")
	completion = route("/v1/completions")
	responses  = route("/v1/responses")
	embeddings = route("/v1/embeddings")
	images     = route("/v1/images/generations")
	messages   = route("/v1/messages")
	countTok   = route("/v1/messages/count_tokens")
	gemini     = route("/v1beta/models/gemini-2.0-flash:generateContent")
	unknown    = route("/v1/fine_tuning/jobs")
)

var applyCases = []applyCase{
	{"model is mapped", `{"model":"fast","messages":[]}`, Plan{Route: chat, Model: "gpt-4o-mini"}, `{"model":"gpt-4o-mini","messages":[]}`},
	{"same model is no change", `{"model":"gpt-4o-mini","messages":[]}`, Plan{Route: chat, Model: "gpt-4o-mini"}, ""},
	{"absent model is not added", `{"input":"x"}`, Plan{Route: embeddings, Model: "m"}, ""},
	{"every duplicated model is mapped", `{"model":"a","model":"b"}`, Plan{Route: chat, Model: "c"}, `{"model":"c","model":"c"}`},
	{"escaped key still names the model", `{"m\u006fdel":"a"}`, Plan{Route: chat, Model: "c"}, `{"m\u006fdel":"c"}`},
	{"case-different key is another member", `{"Model":"a"}`, Plan{Route: chat, Model: "c"}, ""},
	{"model is mapped on unknown routes too", `{"model":"a"}`, Plan{Route: unknown, Model: "c", MaxTokens: 5}, `{"model":"c"}`},
	{"max_tokens above the cap is clamped", chatBody, Plan{Route: chat, MaxTokens: 100},
		`{"model":"fast","messages":[{"role":"user","content":"Hi"}],"temperature":0.70,"seed":12345678901234567890,"max_tokens":100}`},
	{"cap below the limit is kept", `{"messages":[],"max_tokens":50}`, Plan{Route: chat, MaxTokens: 100}, ""},
	{"every cap member is clamped", `{"messages":[],"max_tokens":500,"max_completion_tokens":150,"max_output_tokens":20}`, Plan{Route: chat, MaxTokens: 100},
		`{"messages":[],"max_tokens":100,"max_completion_tokens":100,"max_output_tokens":20}`},
	{"float and exponent caps are compared", `{"messages":[],"max_tokens":1e3}`, Plan{Route: chat, MaxTokens: 100}, `{"messages":[],"max_tokens":100}`},
	{"a string cap is replaced", `{"messages":[],"max_tokens":"50"}`, Plan{Route: chat, MaxTokens: 100}, `{"messages":[],"max_tokens":100}`},
	{"a null cap is set", `{"messages":[],"max_completion_tokens":null}`, Plan{Route: chat, MaxTokens: 100}, `{"messages":[],"max_completion_tokens":100}`},
	{"a null cap beside a real one is left", `{"messages":[],"max_tokens":null,"max_completion_tokens":10}`, Plan{Route: chat, MaxTokens: 100}, ""},
	{"chat without a cap gets max_tokens by default", `{"model":"gpt-4o","messages":[]}`, Plan{Route: chat, MaxTokens: 100}, `{"model":"gpt-4o","messages":[],"max_tokens":100}`},
	{"chat gets the cap member the plan names", `{"model":"o3-mini","messages":[]}`, Plan{Route: chat, MaxTokens: 100, CapParam: "max_completion_tokens"},
		`{"model":"o3-mini","messages":[],"max_completion_tokens":100}`},
	{"responses API gets max_output_tokens", `{"model":"gpt-4.1","input":"Hi"}`, Plan{Route: responses, MaxTokens: 100}, `{"model":"gpt-4.1","input":"Hi","max_output_tokens":100}`},
	{"legacy completions get max_tokens", `{"prompt":"Hi"}`, Plan{Route: completion, MaxTokens: 100}, `{"prompt":"Hi","max_tokens":100}`},
	{"embeddings get no cap", `{"input":"Hi"}`, Plan{Route: embeddings, MaxTokens: 100}, ""},
	{"images get no cap", `{"prompt":"a cat"}`, Plan{Route: images, MaxTokens: 100}, ""},
	{"unknown endpoints get no cap", `{"prompt":"a cat"}`, Plan{Route: unknown, MaxTokens: 100}, ""},
	{"anthropic max_tokens is clamped", `{"model":"claude","max_tokens":8192,"messages":[]}`, Plan{Route: messages, MaxTokens: 1024}, `{"model":"claude","max_tokens":1024,"messages":[]}`},
	{"anthropic ignores OpenAI cap names", `{"max_tokens":10,"max_completion_tokens":9999,"messages":[]}`, Plan{Route: messages, MaxTokens: 100}, ""},
	{"anthropic without max_tokens gets it", `{"messages":[]}`, Plan{Route: messages, MaxTokens: 100}, `{"messages":[],"max_tokens":100}`},
	{"anthropic count_tokens gets no cap", `{"messages":[]}`, Plan{Route: countTok, MaxTokens: 100}, ""},
	{"gemini without generationConfig gets one", `{"contents":[]}`, Plan{Route: gemini, MaxTokens: 50}, `{"contents":[],"generationConfig":{"maxOutputTokens":50}}`},
	{"gemini maxOutputTokens is clamped", `{"contents":[],"generationConfig":{"temperature":1,"maxOutputTokens":8192}}`, Plan{Route: gemini, MaxTokens: 50},
		`{"contents":[],"generationConfig":{"temperature":1,"maxOutputTokens":50}}`},
	{"gemini snake_case is clamped", `{"contents":[],"generation_config":{"max_output_tokens":"8192"}}`, Plan{Route: gemini, MaxTokens: 50},
		`{"contents":[],"generation_config":{"max_output_tokens":50}}`},
	{"gemini config without a cap gets one", `{"contents":[],"generationConfig":{"candidateCount":2}}`, Plan{Route: gemini, MaxTokens: 50},
		`{"contents":[],"generationConfig":{"candidateCount":2,"maxOutputTokens":50}}`},
	{"gemini null config is replaced", `{"contents":[],"generationConfig":null}`, Plan{Route: gemini, MaxTokens: 50},
		`{"contents":[],"generationConfig":{"maxOutputTokens":50}}`},
	{"gemini lower cap is kept", `{"contents":[],"generationConfig":{"maxOutputTokens":10}}`, Plan{Route: gemini, MaxTokens: 50}, ""},
	{"stream_options is added", `{"messages":[],"stream":true}`, Plan{Route: chat, IncludeUsage: true}, `{"messages":[],"stream":true,"stream_options":{"include_usage":true}}`},
	{"stream_options is merged", `{"messages":[],"stream":true,"stream_options":{"include_obfuscation":false , "x":[1]}}`, Plan{Route: chat, IncludeUsage: true},
		`{"messages":[],"stream":true,"stream_options":{"include_obfuscation":false,"x":[1],"include_usage":true}}`},
	{"include_usage false is turned on", `{"messages":[],"stream":true,"stream_options":{"include_usage":false,"y":2}}`, Plan{Route: chat, IncludeUsage: true},
		`{"messages":[],"stream":true,"stream_options":{"include_usage":true,"y":2}}`},
	{"include_usage already on is no change", `{"messages":[], "stream":true, "stream_options": { "include_usage" : true }}`, Plan{Route: chat, IncludeUsage: true}, ""},
	{"null stream_options is replaced", `{"messages":[],"stream":true,"stream_options":null}`, Plan{Route: chat, IncludeUsage: true},
		`{"messages":[],"stream":true,"stream_options":{"include_usage":true}}`},
	{"no stream_options without stream", `{"messages":[],"stream":false}`, Plan{Route: chat, IncludeUsage: true}, ""},
	{"legacy completions get stream_options", `{"prompt":"x","stream":true}`, Plan{Route: completion, IncludeUsage: true}, `{"prompt":"x","stream":true,"stream_options":{"include_usage":true}}`},
	{"no stream_options for the responses API", `{"input":"x","stream":true}`, Plan{Route: responses, IncludeUsage: true}, ""},
	{"no stream_options for anthropic", `{"messages":[],"stream":true}`, Plan{Route: messages, IncludeUsage: true}, ""},
	{"all at once keep order and bytes", "{\n  \"model\": \"fast\",\n  \"messages\": [ {\"role\": \"user\", \"content\": \"\\u4f60\\u597d\"} ],\n  \"stream\": true,\n  \"n\": 1.50E+2\n}\n",
		Plan{Route: chat, Model: "gpt-4o", MaxTokens: 64, IncludeUsage: true},
		`{"model":"gpt-4o","messages":[ {"role": "user", "content": "\u4f60\u597d"} ],"stream":true,"n":1.50E+2,"max_tokens":64,"stream_options":{"include_usage":true}}`},
}

func TestApplyRewritesOnlyWhatThePlanAsks(t *testing.T) {
	for _, c := range applyCases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			out, changed, err := Apply(body, c.plan)
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
	out, changed, err := Apply(body, Plan{Route: chat})
	if err != nil || changed || &out[0] != &body[0] {
		t.Errorf("got %q %v %v, want the body back untouched", out, changed, err)
	}
}

func TestApplyRefusesBodiesThatAreNotObjects(t *testing.T) {
	for _, body := range []string{``, `   `, `[1,2]`, `"x"`, `{"model":`, `{"a":1}{"b":2}`, `{"a":1,}`, "\xff"} {
		out, changed, err := Apply([]byte(body), Plan{Route: chat, Model: "m"})
		if !errors.Is(err, ErrNotObject) || changed || out != nil {
			t.Errorf("Apply(%q) = %q, %v, %v; want ErrNotObject", body, out, changed, err)
		}
	}
}

func TestApplyKeepsLargeNumbersExactly(t *testing.T) {
	out, _, err := Apply([]byte(chatBody), Plan{Route: chat, Model: "x"})
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

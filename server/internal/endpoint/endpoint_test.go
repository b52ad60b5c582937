package endpoint

import (
	"strings"
	"testing"
)

var all = Families

func TestResolveNamesEachInferenceEndpointAndItsModel(t *testing.T) {
	c := Default()
	cases := []struct {
		families     []Family
		method, path string
		name, model  string
	}{
		{all, "POST", "/v1/chat/completions", "openai.chat", ""},
		{all, "POST", "/chat/completions", "openai.chat", ""},
		{all, "POST", "/openai/v1/chat/completions", "openai.chat", ""},
		{all, "POST", "/v1beta/openai/chat/completions", "openai.chat", ""},
		{all, "POST", "/v1/completions", "openai.completions", ""},
		{all, "POST", "/v1/responses", "openai.responses", ""},
		{all, "POST", "/v1/responses/input_tokens", "openai.responses.input_tokens", ""},
		{all, "POST", "/v1/embeddings", "openai.embeddings", ""},
		{all, "POST", "/v1/images/generations", "openai.images.generations", ""},
		{all, "POST", "/v1/messages", "anthropic.messages", ""},
		{all, "POST", "/v1/messages/count_tokens", "anthropic.count_tokens", ""},
		{all, "POST", "/v1beta/models/gemini-2.0-flash:generateContent", "gemini.generate", "gemini-2.0-flash"},
		{all, "POST", "/v1/models/gemini-2.5-pro:streamGenerateContent", "gemini.stream", "gemini-2.5-pro"},
		{all, "POST", "/v1beta/tunedModels/my-tune:generateContent", "gemini.generate.tuned", "my-tune"},
		{all, "POST", "/v1beta/models/gemini-2.0-flash:countTokens", "gemini.count_tokens", "gemini-2.0-flash"},
		{all, "POST", "/openai/deployments/gpt-4o/chat/completions", "azure.chat", "gpt-4o"},
		{all, "POST", "/openai/deployments/my-embed/embeddings", "azure.embeddings", "my-embed"},
		{[]Family{Azure, OpenAI}, "POST", "/openai/deployments/gpt-4o/completions", "azure.completions", "gpt-4o"},
		{all, "GET", "/v1/chat/completions", "openai.chat.list", ""},
		{all, "GET", "/v1/chat/completions/chatcmpl-1", "openai.chat.stored", ""},
		{all, "GET", "/v1/files/file-1/content", "openai.files.content", ""},
		{all, "DELETE", "/v1/models/ft:gpt-4o:org:x", "openai.model.delete", ""},
		{all, "GET", "/v1/responses/resp_1", "openai.responses.stored", ""},
	}
	for _, tc := range cases {
		r := c.Resolve(tc.families, tc.method, tc.path)
		if !r.Known() || r.Name != tc.name || r.PathModel != tc.model {
			got := "unknown"
			if r.Known() {
				got = r.Name
			}
			t.Errorf("%s %s: got %s model %q, want %s model %q", tc.method, tc.path, got, r.PathModel, tc.name, tc.model)
		}
	}
}

func TestDeploymentPathsAreNeverReadAsPlainOpenAI(t *testing.T) {
	// Azure routes by deployment: reading the body's model instead would
	// let a token for one model reach another deployment.
	r := Default().Resolve([]Family{OpenAI, Azure}, "POST", "/openai/deployments/gpt-4o/chat/completions")
	if r.Name != "azure.chat" || r.PathModel != "gpt-4o" {
		t.Fatalf("got %+v", r)
	}
}

func TestAProviderReachesOnlyItsFamilies(t *testing.T) {
	c := Default()
	if r := c.Resolve([]Family{OpenAI}, "POST", "/v1beta/models/gemini-2.0-flash:generateContent"); r.IsMetered() {
		t.Errorf("an OpenAI-only provider resolved a Gemini path as metered: %s", r.Name)
	}
	if r := c.Resolve([]Family{Anthropic}, "POST", "/v1/chat/completions"); r.Known() {
		t.Errorf("an Anthropic-only provider resolved %s", r.Name)
	}
}

func TestUnknownRequestsAreNeitherInferenceNorMetered(t *testing.T) {
	c := Default()
	for _, tc := range []struct{ method, path string }{
		{"POST", "/v1/fine_tuning/jobs"},
		{"GET", "/v1/batches"},
		{"POST", "/v1/chat/completions/x/y/z"},
		{"PUT", "/v1/chat/completions"},
		{"POST", "/"},
		{"POST", ""},
		{"POST", "/v1beta/models/:generateContent"},
		{"POST", "/v1beta/models/gemini:generatecontent"},
		{"POST", "/v1/threads/thread_1/messages"},
	} {
		r := c.Resolve(all, tc.method, tc.path)
		if r.Kind == Inference || r.IsMetered() {
			t.Errorf("%s %s resolved to %s", tc.method, tc.path, r.Name)
		}
	}
}

func TestQueryAndTrailingSlashDoNotChangeTheRoute(t *testing.T) {
	c := Default()
	for _, p := range []string{"/v1/chat/completions?x=1", "/v1/chat/completions/"} {
		if r := c.Resolve(all, "POST", p); r.Name != "openai.chat" {
			t.Errorf("%s: %v", p, r.Name)
		}
	}
}

func TestEveryEntryIsConsistent(t *testing.T) {
	names := map[string]bool{}
	for _, e := range table {
		if names[e.Name] {
			t.Errorf("duplicate name %s", e.Name)
		}
		names[e.Name] = true
		if _, err := compile(e.Pattern); err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
		if !strings.HasPrefix(e.Name, string(e.Family)+".") {
			t.Errorf("%s is not named after its family %s", e.Name, e.Family)
		}
		if e.Metered && e.Kind != Inference {
			t.Errorf("%s: only inference is metered", e.Name)
		}
		if e.Kind != Inference && (e.Cap != NoCap || e.Choices != OneChoice || e.Context != NoContext) {
			t.Errorf("%s: caps, choices and context rules are for inference", e.Name)
		}
		if strings.Contains(e.Pattern, "{model}") && e.Kind == Inference && e.Family != Gemini && e.Family != Azure {
			t.Errorf("%s: only Gemini and Azure name the model in the path", e.Name)
		}
	}
}

func TestPatternsRejectMalformedSyntax(t *testing.T) {
	for _, p := range []string{"v1/x", "/a//b", "/a/{model}:", "/a/{x}", "/a/b:c", "/a/*x"} {
		if _, err := compile(p); err == nil {
			t.Errorf("%q compiled", p)
		}
	}
}

func FuzzResolve(f *testing.F) {
	for _, e := range table {
		f.Add(e.Method, strings.ReplaceAll(strings.ReplaceAll(e.Pattern, "**", "v1"), "{model}", "m"))
	}
	c := Default()
	f.Fuzz(func(t *testing.T, method, path string) {
		r := c.Resolve(all, method, path)
		if r.Known() && r.Method != method {
			t.Fatalf("method %q resolved to %s", method, r.Name)
		}
		if r.PathModel != "" && !strings.Contains(path, r.PathModel) {
			t.Fatalf("model %q is not in %q", r.PathModel, path)
		}
	})
}

func TestWithModelReplacesTheModelThePathNames(t *testing.T) {
	c := Default()
	cases := []struct{ path, model, want string }{
		{"/v1beta/models/fast:generateContent", "gemini-2.0-flash", "/v1beta/models/gemini-2.0-flash:generateContent"},
		{"/v1/models/fast:streamGenerateContent", "gemini-2.5-pro", "/v1/models/gemini-2.5-pro:streamGenerateContent"},
		{"/openai/deployments/fast/chat/completions", "gpt-4o-mini", "/openai/deployments/gpt-4o-mini/chat/completions"},
		{"/x/openai/deployments/fast/embeddings", "a/b c", "/x/openai/deployments/a%2Fb%20c/embeddings"},
		{"/v1/chat/completions", "gpt-4o", "/v1/chat/completions"},
	}
	for _, tc := range cases {
		r := c.Resolve(all, "POST", tc.path)
		if got := r.WithModel(tc.path, tc.model); got != tc.want {
			t.Errorf("%s → %s: got %s, want %s", tc.path, tc.model, got, tc.want)
		}
	}
}

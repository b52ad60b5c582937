package mockprovider

import (
	"net/http"
	"testing"
)

const azureVersion = "?api-version=2024-10-21"

// The deployment picks the model: the body's model is ignored, the answer
// and the record name the deployment's model, and its limits apply.
func TestAzureDeploymentPicksTheModel(t *testing.T) {
	p, srv := newServer(t, Options{Deployments: map[string]string{"prod-chat": "gpt-4o-mini", "emb": "text-embedding-3-small"}})
	url := srv.URL + "/openai/deployments/prod-chat/chat/completions" + azureVersion
	body := `{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}`
	code, m := postJSON(t, url, body, "api-key", "az-key")
	if code != 200 || str(t, m, "model") != "gpt-4o-mini" {
		t.Fatalf("%d %v", code, m)
	}
	if r := lastRequest(t, p); r.Model != "gpt-4o-mini" || r.Key != "az-key" {
		t.Errorf("recorded %+v", r)
	}
	if code, m := postJSON(t, url, `{"max_tokens":20000,"messages":[{"role":"user","content":"hi"}]}`, "api-key", "k"); code != 400 ||
		str(t, m, "error", "code") != "invalid_value" {
		t.Errorf("gpt-4o-mini limit not applied: %d %v", code, m)
	}
	code, m = postJSON(t, srv.URL+"/openai/deployments/emb/embeddings"+azureVersion, `{"input":"x"}`, "api-key", "k")
	if code != 200 || str(t, m, "model") != "text-embedding-3-small" {
		t.Errorf("embeddings: %d %v", code, m)
	}
}

func TestAzureDeploymentDefaultsToItsNameAsModel(t *testing.T) {
	_, srv := newServer(t, Options{})
	for _, op := range []string{"/chat/completions", "/completions"} {
		body := `{"model":"ignored","messages":[{"role":"user","content":"hi"}],"prompt":"hi"}`
		code, m := postJSON(t, srv.URL+"/openai/deployments/gpt-4o"+op+azureVersion, body, "api-key", "k")
		if code != 200 || str(t, m, "model") != "gpt-4o" {
			t.Errorf("%s: %d %v", op, code, m)
		}
	}
}

func TestAzureRefusals(t *testing.T) {
	_, srv := newServer(t, Options{Deployments: map[string]string{"known": "gpt-4o"}})
	body := `{"messages":[{"role":"user","content":"hi"}]}`
	for _, tc := range []struct {
		path, key     string
		status        int
		code, message string
	}{
		{"/openai/deployments/known/chat/completions", "k", 404, "404", "Resource not found"},
		{"/openai/deployments/known/chat/completions" + azureVersion, "", 401, "401",
			"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."},
		{"/openai/deployments/other/chat/completions" + azureVersion, "k", 404, "DeploymentNotFound",
			"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."},
	} {
		var h []string
		if tc.key != "" {
			h = []string{"api-key", tc.key}
		}
		code, m := postJSON(t, srv.URL+tc.path, body, h...)
		if code != tc.status || str(t, m, "error", "code") != tc.code || str(t, m, "error", "message") != tc.message {
			t.Errorf("%s key %q: %d %v", tc.path, tc.key, code, m)
		}
	}
}

// Azure's v1 API takes the model from the body and needs no api-version.
func TestAzureV1APIUsesBodyModel(t *testing.T) {
	_, srv := newServer(t, Options{})
	code, m := postJSON(t, srv.URL+"/openai/v1/chat/completions", `{"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}]}`,
		"api-key", "k")
	if code != 200 || str(t, m, "model") != "gpt-4.1" {
		t.Errorf("%d %v", code, m)
	}
	if code, _ := postJSON(t, srv.URL+"/openai/v1/responses", `{"model":"gpt-4.1","input":"hi"}`, "Authorization", "Bearer entra"); code != 200 {
		t.Errorf("responses: %d", code)
	}
	resp, _ := send(t, http.DefaultClient, srv.URL+"/openai/v1/chat/completions", `{"model":"gpt-4.1"}`)
	if resp.StatusCode != 401 {
		t.Errorf("no key: %d", resp.StatusCode)
	}
}

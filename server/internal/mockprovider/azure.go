package mockprovider

import (
	"net/http"
	"strings"
)

// Azure OpenAI (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference):
//
//	POST /openai/deployments/{deployment}/{chat/completions|completions|embeddings|images/generations}?api-version=…
//	POST /openai/v1/{chat/completions|completions|embeddings|responses|images/generations}, GET /openai/v1/models
//	GET  /openai/v1/realtime?model={deployment}   the Realtime WebSocket (realtime.go), as the GA
//	                                              endpoint openai-node's AzureOpenAI client dials
//
// The deployment in the path picks the model — a `model` in the body is
// ignored and the answer names the deployment's model. The v1 API
// (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/api-version-lifecycle)
// takes the model from the body and needs no api-version. Auth is the
// `api-key` header (or an Entra ID bearer token).

// azureDeploymentOps are the operations below a deployment.
var azureDeploymentOps = map[string]bool{
	"/chat/completions": true, "/completions": true, "/embeddings": true, "/images/generations": true,
}

// azureRoute maps a path below /openai/.
func (p *Provider) azureRoute(r *http.Request, rest string) route {
	if rest == "v1/realtime" {
		return realtimeRoute(r, (*call).azureV1Check)
	}
	if op, ok := strings.CutPrefix(rest, "v1/"); ok {
		rt, found := openAIRoutes["/"+op]
		if !found {
			return route{}
		}
		rt.check = (*call).azureV1Check
		return rt
	}
	d, op, ok := strings.Cut(strings.TrimPrefix(rest, "deployments/"), "/")
	if !strings.HasPrefix(rest, "deployments/") || !ok || d == "" || !azureDeploymentOps["/"+op] {
		return route{}
	}
	rt := openAIRoutes["/"+op]
	model, known := p.deploymentModel(d)
	rt.model = model
	rt.check = func(c *call) bool { return c.azureDeploymentCheck(known) }
	return rt
}

// deploymentModel is the model a deployment serves: from
// Options.Deployments, or the deployment's own name when that is empty.
func (p *Provider) deploymentModel(d string) (string, bool) {
	if len(p.opts.Deployments) == 0 {
		return d, true
	}
	m, ok := p.opts.Deployments[d]
	return m, ok
}

// azureError writes Azure's own error shape, whose code is a string:
// {"error":{"code":"404","message":"Resource not found"}}.
func (c *call) azureError(status int, code, msg string) {
	writeJSON(c.w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}}, false)
}

// azureDeploymentCheck answers what Azure refuses before the model runs:
// a missing api-version is a 404 "Resource not found"
// (https://github.com/MicrosoftDocs/azure-docs/issues/114602), a missing
// key a 401, an unknown deployment a 404 DeploymentNotFound
// (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/deployment-types).
func (c *call) azureDeploymentCheck(known bool) bool {
	c.azureHeaders()
	switch {
	case c.r.URL.Query().Get("api-version") == "":
		c.azureError(http.StatusNotFound, "404", "Resource not found")
	case !c.azureAuthed():
		c.azureUnauthorized()
	case !known:
		c.azureError(http.StatusNotFound, "DeploymentNotFound",
			"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.")
	default:
		return true
	}
	return false
}

// azureV1Check: the v1 API needs only the key.
func (c *call) azureV1Check() bool {
	c.azureHeaders()
	if !c.azureAuthed() {
		c.azureUnauthorized()
		return false
	}
	return true
}

func (c *call) azureAuthed() bool {
	return c.r.Header.Get("Api-Key") != "" || c.r.Header.Get("Authorization") != ""
}

// azureUnauthorized is Azure's 401 for a missing or wrong key
// (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference#authentication).
func (c *call) azureUnauthorized() {
	c.azureError(http.StatusUnauthorized, "401",
		"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.")
}

func (c *call) azureHeaders() {
	h := c.w.Header()
	h.Set("Apim-Request-Id", c.requestID)
	h.Set("X-Ms-Region", "Mock Region")
}

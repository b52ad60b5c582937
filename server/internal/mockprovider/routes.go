package mockprovider

import (
	"fmt"
	"net/http"
	"strings"
)

// route is what a request path asks for.
type route struct {
	api    apiFlavor
	method string
	handle func(*call)
	// check runs before handle (auth, api-version); false means answered.
	check func(*call) bool
	// model comes from the path: a Gemini model or an Azure deployment's.
	model string
	// stream is set when the path itself asks for a stream (Gemini).
	stream bool
	// realtime marks the Realtime WebSocket endpoint (realtime.go).
	realtime bool
}

// openAIRoutes are the OpenAI endpoints by path below /v1 (also served
// below Azure's /openai/deployments/{d} and /openai/v1).
var openAIRoutes = map[string]route{
	"/chat/completions":   {method: http.MethodPost, handle: (*call).chatCompletions},
	"/completions":        {method: http.MethodPost, handle: (*call).completions},
	"/embeddings":         {method: http.MethodPost, handle: (*call).embeddings},
	"/images/generations": {method: http.MethodPost, handle: (*call).images},
	"/responses":          {method: http.MethodPost, handle: (*call).responses},
	"/models":             {method: http.MethodGet, handle: (*call).models},
}

// route maps a request to its endpoint; handle is nil for an unknown path.
func (p *Provider) route(r *http.Request) route {
	path := r.URL.Path
	if rt, ok := geminiRoute(path); ok {
		return rt
	}
	if rest, ok := strings.CutPrefix(path, "/openai/"); ok {
		return p.azureRoute(r, rest)
	}
	switch {
	case path == "/v1/realtime":
		return realtimeRoute(r, nil)
	case path == "/v1/messages":
		return route{api: apiAnthropic, method: http.MethodPost, handle: (*call).messages}
	case strings.HasPrefix(path, "/v1/responses/") && len(path) > len("/v1/responses/"):
		return route{method: http.MethodGet, handle: (*call).getResponse}
	case strings.HasPrefix(path, "/v1/models/") && len(path) > len("/v1/models/"):
		return route{method: http.MethodGet, handle: (*call).getModel}
	}
	if rest, ok := strings.CutPrefix(path, "/v1"); ok {
		if rt, ok := openAIRoutes[rest]; ok {
			return rt
		}
	}
	return route{}
}

// serve answers c with rt once the body was read and the controls applied.
func (c *call) serve(rt route) {
	if rt.handle == nil {
		c.notFound(rt.api)
		return
	}
	if c.r.Method != rt.method {
		c.w.Header().Set("Allow", rt.method)
		c.writeError(rt.api, http.StatusMethodNotAllowed, "invalid_request_error", "",
			fmt.Sprintf("Invalid method for URL (%s %s)", c.r.Method, c.r.URL.Path))
		return
	}
	if rt.check != nil && !rt.check(c) {
		return
	}
	rt.handle(c)
}

func (c *call) notFound(api apiFlavor) {
	if api == apiGemini {
		c.geminiError(http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", c.r.Method, c.r.URL.Path))
		return
	}
	c.writeError(api, http.StatusNotFound, "invalid_request_error", "",
		fmt.Sprintf("Invalid URL (%s %s)", c.r.Method, c.r.URL.Path))
}

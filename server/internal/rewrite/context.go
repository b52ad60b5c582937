package rewrite

import (
	"github.com/relayapi/relayapi/server/internal/endpoint"
)

// Server-side context is input the provider adds to a call from its own
// storage or from the network: a stored conversation, a file uploaded
// earlier, a document fetched from a URL, search results. It is billed as
// input tokens, but the relay cannot see it in the body, so it cannot
// reserve for it: a 20-token request can carry a 50,000-token
// conversation. On a budget token such requests are refused (or, when the
// operator allows it, reserved at a fixed size). Sources, checked 2026-12:
// platform.openai.com/docs/api-reference/responses/create
// (previous_response_id, conversation, prompt, background, tools,
// input_file, item_reference), …/chat/create (file content parts,
// web_search_options), learn.microsoft.com Azure OpenAI "On Your Data"
// (data_sources), docs.anthropic.com/en/api/messages (document sources,
// mcp_servers, container, server tools), ai.google.dev/api/generate-content
// (cachedContent, fileData parts, tools).

// contextKeys are the top-level members serverContext reads.
func contextKeys(c endpoint.Context) []string {
	switch c {
	case endpoint.ChatContext:
		return []string{"messages", "web_search_options", "data_sources"}
	case endpoint.ResponsesContext:
		return []string{"input", "previous_response_id", "conversation", "prompt", "background", "tools"}
	case endpoint.MessagesContext:
		return []string{"messages", "system", "mcp_servers", "container", "tools"}
	case endpoint.GeminiContext:
		return []string{"contents", "cachedContent", "cached_content", "tools"}
	}
	return nil
}

// serverContext names the first member that brings in server-side
// context, "" when there is none.
func (o object) serverContext(c endpoint.Context) string {
	switch c {
	case endpoint.ChatContext:
		return o.firstOf([]string{"web_search_options", "data_sources"}, deepKey(o.get("messages"), "file_id"))
	case endpoint.ResponsesContext:
		return o.responsesContext()
	case endpoint.MessagesContext:
		return o.messagesContext()
	case endpoint.GeminiContext:
		return o.geminiContext()
	}
	return ""
}

// firstOf names the first of keys set to something other than null (or
// false), else fallback.
func (o object) firstOf(keys []string, fallback string) string {
	for _, k := range keys {
		if v := o.get(k); v != nil && string(v) != "null" && string(v) != "false" {
			return k
		}
	}
	return fallback
}

func (o object) responsesContext() string {
	if k := o.firstOf([]string{"previous_response_id", "conversation", "prompt", "background"}, ""); k != "" {
		return k
	}
	if t := toolOutside(o.get("tools"), "type", "function", "custom"); t != "" {
		return "tools: " + t
	}
	input := o.get("input")
	for _, k := range []string{"file_id", "file_url"} {
		if f := deepKey(input, k); f != "" {
			return f
		}
	}
	return deepValue(input, "type", "item_reference")
}

// anthropicClientTools are the tool types the client runs itself (their
// results come back in the next request, where the relay counts them);
// every other type runs on Anthropic's side (web search, fetch, code
// execution) and adds context the relay cannot see.
var anthropicClientTools = []string{"custom", "bash_", "text_editor_", "computer_", "memory_"}

func (o object) messagesContext() string {
	if k := o.firstOf([]string{"mcp_servers", "container"}, ""); k != "" {
		return k
	}
	if t := toolOutside(o.get("tools"), "type", anthropicClientTools...); t != "" {
		return "tools: " + t
	}
	// Content blocks whose "source" the provider fetches: a URL document
	// or PDF, or a file uploaded through the Files API.
	for _, v := range [][]byte{o.get("messages"), o.get("system")} {
		if s := sourceOf(v, "url", "file"); s != "" {
			return s
		}
	}
	return ""
}

func (o object) geminiContext() string {
	if k := o.firstOf([]string{"cachedContent", "cached_content"}, ""); k != "" {
		return k
	}
	contents := o.get("contents")
	for _, k := range []string{"fileData", "file_data"} {
		if f := deepKey(contents, k); f != "" {
			return f
		}
	}
	// Function declarations run on the client; every other tool
	// (googleSearch, codeExecution, urlContext, fileSearch…) at Google.
	for e := range elements(o.get("tools")) {
		for k := range objectMembers(e) {
			if name := keyName(k); !isAny(name, []string{"functionDeclarations", "function_declarations"}) {
				return "tools: " + name
			}
		}
	}
	return ""
}

// toolOutside names the first tool whose key field is not one of allowed
// (an allowed entry ending in "_" is a prefix), "" when all are allowed.
// A tool without the field is allowed: it is a plain function tool.
func toolOutside(tools []byte, field string, allowed ...string) string {
	for e := range elements(tools) {
		t, err := parseObject(e)
		if err != nil {
			continue
		}
		raw := t.get(field)
		if raw == nil || string(raw) == "null" {
			continue
		}
		name := stringValue(raw)
		if !allowedName(name, allowed) {
			if name == "" {
				return "?"
			}
			return name
		}
	}
	return ""
}

func allowedName(name string, allowed []string) bool {
	for _, a := range allowed {
		if name == a || (a[len(a)-1] == '_' && len(name) > len(a) && name[:len(a)] == a) {
			return true
		}
	}
	return false
}

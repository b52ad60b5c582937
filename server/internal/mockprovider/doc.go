// Package mockprovider is a fake AI provider that speaks the real OpenAI,
// Anthropic, Gemini and Azure OpenAI wire formats (JSON and SSE). It is the
// only fake in RelayAPI's tests: Go tests mount it with httptest, the e2e
// suite runs it as the `mockprovider` binary (server/cmd/mockprovider).
//
// It is a faithful provider, not a yes-machine: it refuses what the real
// APIs refuse (caps above a model's output limit, max_tokens on reasoning
// models, a missing api-version…, see limits.go), bills what they bill
// (reasoning and thought tokens, n choices, best_of candidates, the stored
// context of a Responses chain) and compresses its answers — SSE streams
// included — whenever the request accepts gzip (compress.go). Each
// behaviour cites the provider page it copies.
//
// Endpoints:
//
//	POST /v1/chat/completions          chat.completion / chat.completion.chunk SSE; n choices
//	POST /v1/completions               legacy text_completion (max_tokens default 16, n, best_of) / SSE
//	POST /v1/responses                 Responses API response / SSE events; store, previous_response_id, conversation
//	GET  /v1/responses/{id}            a stored response
//	POST /v1/embeddings                embedding list (float or base64 encoding)
//	POST /v1/images/generations        {created, data:[{url|b64_json}], usage (GPT image models only)}
//	GET  /v1/models[/{id}]             model list / model
//	GET  /v1/realtime?model=M          Realtime API (GA) WebSocket session: session.update, conversation.item.*,
//	                                   input_audio_buffer.*, response.create/cancel → the GA server events with
//	                                   deterministic text/audio and usage (realtime.go); also GET /openai/v1/realtime
//	POST /v1/messages                  Anthropic message / Anthropic SSE events
//	POST /{v1beta|v1}/{models|tunedModels}/{model}:generateContent        Gemini GenerateContentResponse
//	POST /{v1beta|v1}/{models|tunedModels}/{model}:streamGenerateContent  Gemini stream (?alt=sse: SSE, else a JSON array)
//	POST /{v1beta|v1}/{models|tunedModels}/{model}:countTokens            Gemini {totalTokens}
//	POST /openai/deployments/{deployment}/{chat/completions|completions|embeddings|images/generations}?api-version=…
//	                                   Azure OpenAI; the deployment picks the model (Options.Deployments)
//	POST /openai/v1/{chat/completions|completions|responses|embeddings|images/generations}, GET /openai/v1/models
//	                                   Azure OpenAI v1 API (model in the body, no api-version)
//	GET  /_mock/stats                  counters (requests, by_path, by_key, by_status…, produced token totals)
//	GET  /_mock/requests               the last N recorded requests (?path=, ?key=, ?limit=), each with the
//	                                   usage the mock produced (produced_prompt_tokens, produced_completion_tokens,
//	                                   produced_reasoning_tokens), its caps and n / best_of
//	POST /_mock/stored                 {"id":"resp_…"|"conv_…","tokens":N}: seed a stored response or
//	                                   conversation holding N context tokens
//	POST /_mock/reset                  clear counters, recorded requests and stored responses
//
// Auth is checked where the real API checks it: Gemini wants x-goog-api-key,
// ?key= or a bearer token (403 otherwise), Azure an api-key header or bearer
// token (401). OpenAI and Anthropic take any key. The credential is recorded.
// The Realtime endpoint, like api.openai.com, always upgrades and then
// refuses a missing key (or, with Options.RealtimeKeys, any other key) with
// an error event and close code 3000, a missing or non-realtime model with
// close code 4000; its browser key subprotocol openai-insecure-api-key.KEY
// is recorded as the key.
//
// Completions are deterministic: the text is "Hello from mock: " followed by
// the last user message (first 512 runes), split into word tokens (see
// [CompletionTokens]); prompt tokens are the rune count of every message
// content (and the system prompt / instructions) divided by 4, minimum 1
// (see [PromptTokens]). Reasoning models (o-series, gpt-5) and thinking
// Gemini models (2.5+) also spend 64 hidden tokens, bounded by the cap and
// billed as output. completion_tokens equals the tokens emitted; a stream
// sends one token per content chunk unless x-mock-chunk-tokens says more.
//
// Test controls, as request headers (a relay forwards unknown headers):
//
//	x-mock-status: 500          answer that status (400–599) with a provider-shaped error body
//	x-mock-delay-ms: 200        wait before sending the response headers
//	x-mock-chunk-delay-ms: 50   wait before each streamed content chunk
//	x-mock-chunks: 10           number of completion tokens (before caps)
//	x-mock-chunk-tokens: 3      word tokens per streamed content chunk (default 1)
//	x-mock-disconnect-after: 3  streaming: abort the connection after 3 content chunks
//	x-mock-retry-after: 2       Retry-After sent with x-mock-status
//	x-mock-fail-first: 1        with x-mock-fault-id: only the first N requests of that id get x-mock-status
//	x-mock-fault-id: abc        the group x-mock-fail-first counts in
//	x-mock-stall-after: 3       streaming: go silent after 3 content chunks, connection open
//	x-mock-stream-forever: 1    streaming: content chunks never end
//	x-mock-huge-bytes: N        chat completions: N bytes of content, usage ceil(N/4)
//	x-mock-ignore-max-tokens: 1 ignore every cap (natural or x-mock-chunks length), like a non-compliant server
//	x-mock-omit-usage: 1        a 2xx answer without any usage (JSON, stream usage chunk, Anthropic, Gemini)
//	x-mock-realtime-close-after: 5  realtime: close the socket with 1011 right after the 5th server event
//	x-mock-realtime-usage-scale: 10 realtime: every usage count of response.done (and the produced usage) ×10
//
// On the Realtime endpoint the controls are headers of the upgrade request:
// x-mock-status, x-mock-delay-ms and x-mock-fail-first answer the handshake;
// the chunk controls apply to each response's deltas (x-mock-disconnect-after
// drops the connection without a close frame, x-mock-stall-after silences the
// session, x-mock-stream-forever streams until response.cancel), and
// x-mock-omit-usage sends response.done with usage null. Options set the
// session cap (RealtimeMaxSession, 60 minutes: error session_expired, close
// 4000), the message limit (RealtimeMaxMessageBytes, 15 MiB: close 1009) and
// the ping interval (RealtimePingInterval, 20 s); Provider.CloseRealtime
// ends every session with 1001.
//
// faults.go details the fault controls. Accept-Encoding (gzip with q>0)
// compresses any answer; identity or none gives a plain body.
//
// /_mock/* requests are neither counted, recorded nor compressed.
package mockprovider

package mockprovider

import "encoding/json"

// streamGenerateContent streams GenerateContentResponse chunks
// (https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent).
// With ?alt=sse each is an SSE event "data: {…}" ended by "\r\n\r\n", the
// CRLF line endings Google's servers send
// (https://github.com/nyroway/nyro/pull/265,
// https://github.com/envoyproxy/ai-gateway/pull/1536); without it the body
// is one JSON array streamed element by element ("[{…}\r\n,{…}]").
// Every chunk carries usageMetadata, cumulative up to that chunk, with the
// thoughts already counted from the first chunk, as a captured
// gemini-2.5-flash stream shows
// (https://github.com/junjihashimoto/louter/blob/main/test-data/gemini/streaming_long/response.json).
// A candidate's last chunk carries its finishReason.
func (c *call) streamGenerateContent() {
	pl, ok := c.planGemini()
	if !ok {
		return
	}
	sseMode := c.r.URL.Query().Get("alt") == "sse"
	contentType := "application/json; charset=UTF-8"
	if sseMode {
		contentType = "text/event-stream"
	}
	c.startStream(pl.prompt, pl.chs)
	s := c.startStreamAs(contentType)
	defer s.done()
	g := &geminiStream{c: c, s: s, pl: pl, sse: sseMode}
	if g.run() && !sseMode {
		s.raw([]byte("]"))
	}
}

// geminiStream writes the chunks of one streamGenerateContent answer.
type geminiStream struct {
	c          *call
	s          *sse
	pl         *geminiPlan
	sse        bool
	sent       int // chunks written
	candidates int // candidate tokens written so far
}

// chunk writes one GenerateContentResponse in the stream's framing.
func (g *geminiStream) chunk(cands []any) bool {
	var usage map[string]any
	if !g.c.omitUsage {
		_, thoughts := sumCompletion(g.pl.chs)
		usage = geminiUsage(g.pl.prompt, g.candidates, thoughts)
	}
	b, _ := json.Marshal(g.pl.response(cands, usage))
	var frame []byte
	switch {
	case g.sse:
		frame = append(append([]byte("data: "), b...), "\r\n\r\n"...)
	case g.sent == 0:
		frame = append([]byte("["), b...)
	default:
		frame = append([]byte("\r\n,"), b...)
	}
	g.sent++
	return g.s.raw(frame)
}

// run streams every candidate's chunks, then a closing chunk for any
// candidate that had no text. False once the stream was cut.
func (g *geminiStream) run() bool {
	done := make([]bool, len(g.pl.chs))
	for i, st := range g.c.steps(g.pl.chs) {
		finish := ""
		if st.last {
			finish, done[st.choice] = geminiFinish(g.pl.chs[st.choice]), true
		}
		g.candidates += st.tokens
		if !g.s.beforeChunk(i) || !g.chunk([]any{candidate(st.choice, st.text, finish)}) {
			return false
		}
		g.c.produce(st.tokens)
	}
	for i, ch := range g.pl.chs {
		if !done[i] && !g.chunk([]any{candidate(i, "", geminiFinish(ch))}) {
			return false
		}
	}
	return true
}

package mockprovider

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// A Realtime response (response.create) streams, per
// https://platform.openai.com/docs/api-reference/realtime-server-events and
// the order api.openai.com was captured sending them: response.created,
// response.output_item.added, conversation.item.added (default conversation
// only), response.content_part.added, the deltas
// (response.output_text.delta, or response.output_audio.delta +
// response.output_audio_transcript.delta per word token), then
// response.output_text.done (or response.output_audio.done +
// response.output_audio_transcript.done), response.content_part.done,
// conversation.item.done, response.output_item.done, response.done with the
// usage, and rate_limits.updated after it. A cancelled response still ends
// its item, part and text ("Also emitted when a Response is interrupted,
// incomplete, or cancelled") and response.done says "cancelled".

// rtPhase is how far a response got.
type rtPhase int

const (
	phCreated rtPhase = iota // next: response.created
	phItem                   // next: the output item is added
	phPart                   // next: the content part is added
	phDelta                  // deltas
	phDone                   // next: the text/part/item done events
	phFinal                  // next: response.done
	phEnd                    // all sent
)

// rtStep is one batch of events sent together; a content chunk (one
// x-mock-chunk-tokens piece) is one step, chunk >= 0.
type rtStep struct {
	evs   []map[string]any
	chunk int
	words int
	text  string
	done  bool // the step is response.done: the response is over
}

// rtResponse is a response being streamed.
type rtResponse struct {
	s         *rtSession
	id        string
	conv      bool // writes to the default conversation
	audio     bool
	maxOut    any // as echoed: "inf" or the cap
	voice     any
	format    any
	metadata  any
	pieces    []piece
	truncated bool
	inText    int
	inAudio   int
	cached    int
	cText     int
	cAudio    int

	cancelled    bool
	cancelReason string // status_details.reason: client_cancelled or turn_detected
	finished     bool   // response.done was sent
	phase        rtPhase
	next         int // next piece
	words        int // word tokens sent
	text         strings.Builder
	itemID       string
	prevItem     any
	item         *rtItem        // the assistant item in the conversation (conv only)
	final        map[string]any // the finished item (for response.done)
	out          []rtStep
}

// rtResponseParams are the RealtimeResponseCreateParams the mock uses.
type rtResponseParams struct {
	OutputModalities any               `json:"output_modalities"`
	Instructions     *string           `json:"instructions"`
	MaxOutputTokens  any               `json:"max_output_tokens"`
	Conversation     *string           `json:"conversation"`
	Input            []json.RawMessage `json:"input"`
	Metadata         any               `json:"metadata"`
}

// responseCreate starts a response (or queues an out-of-band one behind the
// active response).
func (s *rtSession) responseCreate(ev rtEvent) *rtEnd {
	var e struct {
		Response *rtResponseParams `json:"response"`
	}
	if end, ok := s.decode(ev, &e); !ok {
		return end
	}
	p := e.Response
	if p == nil {
		p = &rtResponseParams{}
	}
	return s.startResponse(ev.id, p)
}

// startResponse starts the response p asks for, for the client event evID
// ("" for the server VAD's own response.create, whose errors then carry
// event_id null). "Only one Response can write to the default Conversation
// at a time": a second one is conversation_already_has_active_response.
func (s *rtSession) startResponse(evID string, p *rtResponseParams) *rtEnd {
	r := &rtResponse{s: s, id: s.c.newID("resp_"), conv: true, metadata: p.Metadata}
	out := s.audioConfig("output")
	r.voice, r.format = out["voice"], out["format"]

	r.audio, _ = rtModalities(s.cfg["output_modalities"])
	if p.OutputModalities != nil {
		audio, ok := rtModalities(p.OutputModalities)
		if !ok {
			return s.fail(evID, "invalid_value", "response.output_modalities",
				"Invalid modalities: it is not possible to request both text and audio; use [\"text\"] or [\"audio\"].")
		}
		r.audio = audio
	}
	r.maxOut = s.cfg["max_output_tokens"]
	limit, _ := rtMaxOutput("", r.maxOut)
	if p.MaxOutputTokens != nil {
		n, refusal := rtMaxOutput("response.max_output_tokens", p.MaxOutputTokens)
		if refusal != nil {
			return s.refused(evID, refusal)
		}
		r.maxOut, limit = p.MaxOutputTokens, n
	}
	if p.Conversation != nil {
		switch *p.Conversation {
		case "auto":
		case "none":
			r.conv = false
		default:
			return s.fail(evID, "invalid_value", "response.conversation", fmt.Sprintf(
				"Invalid value: '%s'. Supported values are: 'auto' and 'none'.", *p.Conversation))
		}
	}
	if r.conv {
		for _, o := range append([]*rtResponse{s.active}, s.queue...) {
			if o != nil && o.conv && !o.finished {
				return s.fail(evID, "conversation_already_has_active_response", "", fmt.Sprintf(
					"Conversation already has an active response in progress: %s. Wait until the response is finished before creating a new one.", o.id))
			}
		}
	}
	context := s.items
	if p.Input != nil {
		context = nil
		for i, raw := range p.Input {
			var ref struct {
				Type string `json:"type"`
				ID   string `json:"id"`
			}
			_ = json.Unmarshal(raw, &ref)
			if ref.Type == "item_reference" {
				j := s.findItem(ref.ID)
				if j < 0 {
					return s.itemNotFound(evID, fmt.Sprintf("response.input[%d].id", i), ref.ID)
				}
				context = append(context, s.items[j])
				continue
			}
			it, end := s.parseItem(evID, fmt.Sprintf("response.input[%d]", i), raw)
			if it == nil {
				return end
			}
			context = append(context, it)
		}
	}
	instructions, _ := s.cfg["instructions"].(string)
	if p.Instructions != nil {
		instructions = *p.Instructions
	}
	if instructions != "" {
		r.inText = PromptTokens(instructions)
	}
	user := ""
	for _, it := range context {
		r.inText += it.textTokens
		r.inAudio += it.audioTokens
		if it.role == "user" {
			user = it.text
		}
	}
	if r.conv && s.prevContext >= rtCacheMinTokens {
		r.cached = min(s.prevContext, r.inText+r.inAudio) / rtCacheStep * rtCacheStep
		r.cText = min(r.cached, r.inText)
		r.cAudio = r.cached - r.cText
	}
	c := s.c
	tokens, _ := CompletionTokens(user, c.chunks, 0)
	if perWord := r.perWord(); limit > 0 && !c.ignoreCaps && !c.forever && len(tokens) > limit/perWord {
		tokens, r.truncated = tokens[:limit/perWord], true
	}
	r.pieces = c.pieces(tokens)
	if s.active == nil {
		s.active = r
	} else {
		s.queue = append(s.queue, r)
	}
	return nil
}

// perWord is the output tokens one word token costs.
func (r *rtResponse) perWord() int {
	if r.audio {
		return 1 + RealtimeAudioTokensPerWord
	}
	return 1
}

// responseCancel: "If there is no response to cancel, the server will
// respond with an error" — response_cancel_not_active, "Cancellation
// failed: no active response found".
func (s *rtSession) responseCancel(ev rtEvent) *rtEnd {
	var e struct {
		ResponseID string `json:"response_id"`
	}
	if end, ok := s.decode(ev, &e); !ok {
		return end
	}
	var r *rtResponse
	for _, o := range append([]*rtResponse{s.active}, s.queue...) {
		if o != nil && !o.cancelled && !o.finished && (e.ResponseID == "" || o.id == e.ResponseID) {
			r = o
			break
		}
	}
	if r == nil {
		return s.fail(ev.id, "response_cancel_not_active", "", "Cancellation failed: no active response found")
	}
	s.cancelResponse(r, "client_cancelled")
	return nil
}

// cancelResponse cancels r: it ends its item, part and text and its
// response.done says "cancelled" with status_details.reason, one of
// "turn_detected (the server VAD detected a new start of speech) or
// client_cancelled (the client sent a cancel event)" (RealtimeResponseStatus).
func (s *rtSession) cancelResponse(r *rtResponse, reason string) {
	r.cancelled, r.cancelReason = true, reason
	if r.phase == phCreated {
		// Cancelled before it started (queued): it read nothing.
		r.inText, r.inAudio, r.cached, r.cText, r.cAudio = 0, 0, 0, 0, 0
	}
	if r == s.active && s.held != nil {
		// The delta waiting for its delay is never produced.
		s.held = nil
		s.timer.Stop()
		s.timer = nil
	}
}

// advance sends the active response's next step, applying the chunk
// controls before each content chunk as beforeChunk does for HTTP streams.
func (s *rtSession) advance() *rtEnd {
	r := s.active
	for len(r.out) == 0 {
		if !r.fill() {
			s.finishResponse()
			return nil
		}
	}
	st := r.out[0]
	r.out = r.out[1:]
	if st.chunk >= 0 {
		c := s.c
		switch {
		case c.disconnectSet && st.chunk >= c.disconnectAt:
			// Drop the connection: no close frame, like a provider crash.
			_ = s.conn.CloseNow()
			return &rtEnd{outcome: rtDisconnected, err: fmt.Errorf("x-mock-disconnect-after %d", c.disconnectAt)}
		case c.stallSet && st.chunk >= c.stallAt:
			s.paused = true
			return nil
		case c.chunkDelay > 0:
			s.held = &st
			s.timer = time.NewTimer(c.chunkDelay)
			return nil
		}
	}
	return s.emit(r, st)
}

// release sends the step that waited for the chunk delay.
func (s *rtSession) release() *rtEnd {
	st := s.held
	s.held = nil
	if st == nil || s.active == nil {
		return nil
	}
	return s.emit(s.active, *st)
}

// emit sends a step and bills the words it carried.
func (s *rtSession) emit(r *rtResponse, st rtStep) *rtEnd {
	for _, ev := range st.evs {
		if end := s.send(ev); end != nil {
			return end
		}
	}
	if st.words > 0 {
		r.words += st.words
		r.text.WriteString(st.text)
		s.billOut += s.ctl.scale * st.words * r.perWord()
		s.c.bill(s.billIn, s.billOut, 0)
	}
	if st.done {
		// Over as of response.done: the conversation takes the next
		// response.create, and the turn is context for the next one.
		r.finished = true
		if r.conv {
			s.prevContext = r.inText + r.inAudio + r.words*r.perWord()
		}
		if r.audio && r.words > 0 {
			s.voiceLocked = true
		}
	}
	if r.phase == phEnd && len(r.out) == 0 && s.active == r {
		s.finishResponse()
	}
	return nil
}

// finishResponse ends the active response and starts the next queued one.
func (s *rtSession) finishResponse() {
	s.active = nil
	if len(s.queue) > 0 {
		s.active, s.queue = s.queue[0], s.queue[1:]
	}
}

// ev builds an event of this response's item.
func (r *rtResponse) ev(typ string, kv ...any) map[string]any {
	base := []any{"response_id", r.id, "item_id", r.itemID, "output_index", 0, "content_index", 0}
	return r.s.event(typ, append(base, kv...)...)
}

func (r *rtResponse) step(evs ...map[string]any) {
	r.out = append(r.out, rtStep{evs: evs, chunk: -1})
}

// fill queues the events of the next phase; false once all were sent.
func (r *rtResponse) fill() bool {
	s := r.s
	switch r.phase {
	case phCreated:
		s.billIn += s.ctl.scale * (r.inText + r.inAudio)
		s.c.bill(s.billIn, s.billOut, 0)
		r.step(s.event("response.created", "response", r.object("in_progress", nil, []any{}, nil)))
		r.phase = phItem
		if r.cancelled {
			r.phase = phFinal
		}
	case phItem:
		r.itemID = s.c.newID("item_")
		item := r.itemObj("in_progress")
		r.step(s.event("response.output_item.added", "response_id", r.id, "output_index", 0, "item", item))
		if r.conv {
			r.prevItem = s.lastItemID()
			r.item = &rtItem{id: r.itemID, obj: item, role: "assistant"}
			s.items = append(s.items, r.item)
			r.step(s.event("conversation.item.added", "previous_item_id", r.prevItem, "item", item))
		}
		r.phase = phPart
	case phPart:
		part := map[string]any{"type": "text", "text": ""}
		if r.audio {
			part = map[string]any{"type": "audio", "transcript": ""}
		}
		r.step(r.ev("response.content_part.added", "part", part))
		r.phase = phDelta
	case phDelta:
		if r.cancelled || len(r.pieces) == 0 || (r.next >= len(r.pieces) && !s.c.forever) {
			r.phase = phDone
			return true
		}
		p := r.pieces[r.next%len(r.pieces)]
		st := rtStep{chunk: r.next, words: p.tokens, text: p.text}
		r.next++
		if r.audio {
			audio := make([]byte, p.tokens*s.bytesPer100ms("output"))
			st.evs = append(st.evs,
				r.ev("response.output_audio.delta", "delta", base64.StdEncoding.EncodeToString(audio)),
				r.ev("response.output_audio_transcript.delta", "delta", p.text))
		} else {
			st.evs = append(st.evs, r.ev("response.output_text.delta", "delta", p.text))
		}
		r.out = append(r.out, st)
	case phDone:
		text := r.text.String()
		status := "completed"
		if r.cancelled || r.truncated {
			status = "incomplete"
		}
		item := r.itemObj(status)
		if r.audio {
			item["content"] = []any{map[string]any{"type": "output_audio", "transcript": text}}
			r.step(r.ev("response.output_audio.done"))
			r.step(r.ev("response.output_audio_transcript.done", "transcript", text))
			r.step(r.ev("response.content_part.done", "part", map[string]any{"type": "audio", "transcript": text}))
		} else {
			item["content"] = []any{map[string]any{"type": "output_text", "text": text}}
			r.step(r.ev("response.output_text.done", "text", text))
			r.step(r.ev("response.content_part.done", "part", map[string]any{"type": "text", "text": text}))
		}
		r.final = item
		if r.conv {
			r.item.obj, r.item.text = item, text
			if r.audio {
				// Assistant audio is input to later turns as audio.
				r.item.audioTokens = r.words * RealtimeAudioTokensPerWord
			} else {
				r.item.textTokens = r.words
			}
			r.step(s.event("conversation.item.done", "previous_item_id", r.prevItem, "item", item))
		}
		r.step(s.event("response.output_item.done", "response_id", r.id, "output_index", 0, "item", item))
		r.phase = phFinal
	case phFinal:
		status, details := "completed", any(nil)
		switch {
		case r.cancelled:
			status, details = "cancelled", map[string]any{"type": "cancelled", "reason": r.cancelReason}
		case r.truncated:
			status, details = "incomplete", map[string]any{"type": "incomplete", "reason": "max_output_tokens"}
		}
		output := []any{}
		if r.final != nil {
			output = append(output, r.final)
		}
		var usage any
		if !s.c.omitUsage {
			usage = r.usage()
		}
		r.out = append(r.out, rtStep{evs: []map[string]any{s.event("response.done", "response", r.object(status, details, output, usage))},
			chunk: -1, done: true})
		k := s.ctl.scale
		used := k * (r.inText + r.inAudio + r.words*r.perWord())
		r.step(s.event("rate_limits.updated", "rate_limits", []any{map[string]any{
			"name": "tokens", "limit": rtRateLimitTokens, "remaining": max(0, rtRateLimitTokens-used), "reset_seconds": 0.001,
		}}))
		r.phase = phEnd
	default:
		return false
	}
	return true
}

// itemObj is the assistant message item with status and no content yet.
func (r *rtResponse) itemObj(status string) map[string]any {
	return map[string]any{"id": r.itemID, "object": "realtime.item", "type": "message",
		"status": status, "role": "assistant", "content": []any{}}
}

// object is the RealtimeResponse (the shape of the response.created and
// response.done examples in openapi.yaml).
func (r *rtResponse) object(status string, details any, output []any, usage any) map[string]any {
	var conv any
	if r.conv {
		conv = r.s.convID
	}
	modality := "text"
	if r.audio {
		modality = "audio"
	}
	return map[string]any{
		"object": "realtime.response", "id": r.id, "status": status, "status_details": details,
		"output": output, "conversation_id": conv, "output_modalities": []any{modality},
		"max_output_tokens": r.maxOut,
		"audio":             map[string]any{"output": map[string]any{"format": r.format, "voice": r.voice}},
		"usage":             usage, "metadata": r.metadata,
	}
}

// usage is RealtimeResponseUsage, every count times x-mock-realtime-usage-scale.
func (r *rtResponse) usage() map[string]any {
	k := r.s.ctl.scale
	outText, outAudio := r.words, 0
	if r.audio {
		outAudio = r.words * RealtimeAudioTokensPerWord
	}
	in, out := r.inText+r.inAudio, outText+outAudio
	return map[string]any{
		"total_tokens": k * (in + out), "input_tokens": k * in, "output_tokens": k * out,
		"input_token_details": map[string]any{
			"text_tokens": k * r.inText, "audio_tokens": k * r.inAudio, "image_tokens": 0,
			"cached_tokens": k * r.cached,
			"cached_tokens_details": map[string]any{
				"text_tokens": k * r.cText, "audio_tokens": k * r.cAudio, "image_tokens": 0,
			},
		},
		"output_token_details": map[string]any{"text_tokens": k * outText, "audio_tokens": k * outAudio},
	}
}

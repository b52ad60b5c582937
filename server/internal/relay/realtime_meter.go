package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/realtime"
	"github.com/relayapi/relayapi/server/internal/store"
)

// A realtime session is one admitted call with many responses. rtMeter
// holds it to its token's max_tokens and token_budget:
//
//   - every response's output is capped (response.max_output_tokens on
//     each response.create, session max_output_tokens for the responses
//     the provider starts by itself after voice activity);
//   - with a budget, the session's lease holds, before any response can
//     start, the most each response in flight may cost (the conversation
//     so far, over-estimated, plus its output cap) and, while the
//     provider's turn detection may start one by itself, one spare
//     response; each response.done is charged as it comes (store.Hold);
//   - what the budget cannot hold is refused: a response.create gets the
//     provider's error event (budget_exceeded), and a session whose
//     provider may start a response the budget cannot pay for is closed
//     with 4002.
type rtMeter struct {
	h      *Handler
	c      *call
	stop   chan<- realtime.End
	budget int64 // the token's token_budget, 0 for none
	outCap int64 // the most output tokens one response may produce

	mu sync.Mutex
	// context over-estimates the conversation in tokens (a byte per text
	// token, audio at the densest format's rate): the input of the next
	// response. It only grows.
	context int64
	pending []rtSlot          // response.create forwarded, not started yet
	active  map[string]rtSlot // started responses by id
	// added counts the tokens of every client event forwarded: a
	// response's slot remembers it, so its response.done can tell what
	// joined the conversation after the provider counted its input.
	added int64
	// autoOn: the provider's session has turn detection that creates
	// responses; turnPending: forwarded session.updates touching turn
	// detection the provider has not answered yet (until it does, the
	// relay assumes they switch it on).
	autoOn      bool
	turnPending map[string]bool
	ownUpdate   string // event_id of the relay's own session.update, until answered
	held        int64  // the lease's reservation
	spareHeld   bool   // the last hold covered a response the provider may start
	// spareContext is the context the spare response is held for: at
	// least context, with headroom, so a growing conversation (audio
	// arriving all the time) costs a store round trip per quarter of
	// growth, not per event.
	spareContext int64
	// Charged to the store so far, and charged at settlement because the
	// session ended before their response.done (failing closed).
	prompt, completion, unsettled int64
	ended                         bool
}

// rtSlot is a response asked for or started: what it may cost, whether
// it writes to the default conversation (which holds one response at a
// time) and, for one whose input is the conversation, the tokens
// forwarded before it (the provider counted them in its input).
type rtSlot struct {
	eventID  string
	tokens   int64
	writes   bool
	readsAll bool
	addedAt  int64
}

// Realtime protocol figures (https://platform.openai.com/docs/api-reference/realtime-client-events).
const (
	// rtMaxOutput: max_output_tokens is "an integer between 1 and 4096 …
	// or inf for the maximum available tokens for a given model".
	rtMaxOutput = 4096
	// rtSessionContext is reserved at the handshake for the session's
	// first context (the default instructions, about a kilobyte): a
	// budget that cannot hold it is refused before the upgrade. The
	// reservation is re-sized once session.created shows the session.
	rtSessionContext = 1024
	// rtAudioBytesPerToken: "Audio tokens in user messages are 1 token per
	// 100 ms of audio" (https://platform.openai.com/docs/guides/realtime-costs);
	// the densest input format, G.711 at 8 kHz, is 800 bytes per 100 ms.
	rtAudioBytesPerToken = 800
	// rtImageTokens bounds one input image (a small image costs more
	// tokens than its bytes: 85 base tokens and up, 170 per 512 px tile).
	rtImageTokens = 2048
)

func (h *Handler) newRTMeter(c *call, stop chan<- realtime.End) *rtMeter {
	m := &rtMeter{h: h, c: c, stop: stop, budget: c.claims.TokenBudget, active: map[string]rtSlot{},
		turnPending: map[string]bool{}, autoOn: true, held: c.grant.Reserved, outCap: rtMaxOutput}
	if info := h.opts.Models.Lookup(c.model); info.MaxOutput > 0 {
		m.outCap = min(m.outCap, info.MaxOutput)
	}
	if c.claims.MaxTokens > 0 {
		m.outCap = min(m.outCap, c.claims.MaxTokens)
	}
	return m
}

// enforcing: the token has a budget or an output cap to hold the
// session to; otherwise the meter does nothing.
func (m *rtMeter) enforcing() bool { return m.budget > 0 || m.capped() }

// capped: the session needs its responses' output capped below what the
// provider would allow anyway.
func (m *rtMeter) capped() bool { return m.outCap < rtMaxOutput }

// greeting is the relay's own session.update, sent before any client
// event, so the responses the provider starts by itself are capped too;
// its session.updated answer is kept from the client.
func (m *rtMeter) greeting() []byte {
	if !m.capped() {
		return nil
	}
	m.ownUpdate = "evt_relay_" + token.NewID()
	b, _ := json.Marshal(map[string]any{"type": "session.update", "event_id": m.ownUpdate,
		"session": map[string]any{"type": "realtime", "max_output_tokens": m.outCap}})
	return b
}

// watched are the provider events the meter reads.
var rtWatched = map[string]bool{"session.created": true, "session.updated": true, "response.created": true, "response.done": true, "error": true}

// inspect applies the token to a client event the relay has already
// checked (valid JSON, allowed model): it returns the event to forward
// (nil: unchanged) or a refusal.
func (m *rtMeter) inspect(ev realtime.ClientEvent, event []byte) (forward, refusal []byte) {
	if !m.enforcing() {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch ev.Type {
	case "session.update":
		forward, refusal = m.sessionUpdate(ev, event)
	case "response.create":
		forward, refusal = m.responseCreate(ev, event)
	}
	if refusal == nil && m.budget > 0 {
		n := eventTokens(ev.Type, event)
		m.context += n
		m.added += n
		if !m.coverContext() {
			m.end("budget_exceeded: the token's budget cannot hold the next response")
			return nil, budgetEvent(ev.EventID)
		}
	}
	return forward, refusal
}

// coverContext keeps the spare response held for the conversation as it
// grows, while the provider may start one by itself; false when the
// budget cannot hold it.
func (m *rtMeter) coverContext() bool {
	if !m.spareNeeded() || m.context <= m.spareContext || m.ended {
		return true
	}
	headroom := m.context / 4
	m.spareContext = m.context + headroom
	if m.hold(0, 0, 0) {
		return true
	}
	// Without the headroom, perhaps: the lease took what is left.
	m.spareContext -= min(m.want()-m.held, headroom+1)
	m.spareHeld = !m.ended && m.spareContext >= m.context
	return m.spareHeld
}

// eventTokens over-estimates what a client event adds to the
// conversation: a text token is at least one byte; audio is counted at
// the densest format's rate; an image at rtImageTokens.
func eventTokens(typ string, event []byte) int64 {
	if typ == "input_audio_buffer.append" {
		return int64(len(event))*3/4/rtAudioBytesPerToken + 1
	}
	return int64(len(event)) + rtImageTokens*int64(bytes.Count(event, []byte(`"input_image"`)))
}

// sessionUpdate caps the session's max_output_tokens and, on a budget,
// refuses what brings cost the relay cannot meter.
func (m *rtMeter) sessionUpdate(ev realtime.ClientEvent, event []byte) (forward, refusal []byte) {
	top, inner, ok := decodeEvent(event, "session")
	if !ok {
		return nil, notObjectEvent(ev.EventID, "session")
	}
	id := ev.EventID
	if m.budget > 0 {
		if param := unmetered(inner, "session"); param != "" {
			return nil, notMeteredEvent(id, param)
		}
	}
	changed := m.capField(inner, "max_output_tokens")
	if touchesTurnDetection(inner) {
		if id == "" {
			id, changed = "evt_relay_"+token.NewID(), true
		}
		m.turnPending[id] = true
		// Until the provider answers, it may start responses by itself.
		if m.budget > 0 && !m.hold(0, 0, 0) {
			delete(m.turnPending, id)
			m.hold(0, 0, 0)
			return nil, budgetEvent(id)
		}
	}
	if !changed {
		return nil, nil
	}
	top["event_id"] = mustJSON(id)
	top["session"] = mustJSON(inner)
	return mustJSON(top), nil
}

// responseCreate reserves a response before it is forwarded and caps its
// output at what the reservation holds.
func (m *rtMeter) responseCreate(ev realtime.ClientEvent, event []byte) (forward, refusal []byte) {
	top, inner, ok := decodeEvent(event, "response")
	if !ok {
		return nil, notObjectEvent(ev.EventID, "response")
	}
	if inner == nil {
		inner = map[string]json.RawMessage{}
	}
	id := ev.EventID
	if id == "" {
		id = "evt_relay_" + token.NewID()
	}
	asked, valid := outputTokens(inner["max_output_tokens"], m.outCap)
	if m.budget > 0 {
		if param := unmetered(inner, "response"); param != "" {
			return nil, notMeteredEvent(id, param)
		}
		input := m.context + eventTokens("response.create", event)
		want := m.want()
		if !m.hold(0, 0, input+asked) {
			// The lease took what is left: enough for a shorter answer?
			per := m.held - want - input
			if m.ended || per < 1 || !valid {
				m.hold(0, 0, 0)
				return nil, budgetEvent(id)
			}
			asked = per
		}
		writes, readsAll := conversationUse(inner)
		m.pending = append(m.pending, rtSlot{eventID: id, tokens: input + asked, writes: writes, readsAll: readsAll, addedAt: m.added})
	}
	if valid {
		inner["max_output_tokens"] = mustJSON(asked)
	}
	top["event_id"] = mustJSON(id)
	top["response"] = mustJSON(inner)
	return mustJSON(top), nil
}

func touchesTurnDetection(session map[string]json.RawMessage) bool {
	if audio := objectField(session, "audio"); audio != nil {
		if input := objectField(audio, "input"); input != nil {
			_, ok := input["turn_detection"]
			return ok
		}
	}
	return false
}

// conversationUse reads a response.create's response: whether it writes
// to the default conversation (conversation is not "none"), and whether
// its input is all of it (no input items of its own).
func conversationUse(response map[string]json.RawMessage) (writes, readsAll bool) {
	var conv string
	if raw, ok := response["conversation"]; ok && (json.Unmarshal(raw, &conv) != nil || conv == "none") {
		return false, false
	}
	_, own := response["input"]
	return true, !own
}

// capField lowers a max_output_tokens member above the cap ("inf"
// included); a value of another type is left for the provider to refuse.
func (m *rtMeter) capField(obj map[string]json.RawMessage, name string) bool {
	raw, ok := obj[name]
	if !ok || !m.capped() {
		return false
	}
	n, valid := outputTokens(raw, m.outCap)
	if !valid || string(raw) == mustString(n) {
		return false
	}
	obj[name] = mustJSON(n)
	return true
}

// outputTokens reads a max_output_tokens value capped at limit: absent or
// "inf" is the limit; valid is false for a value the provider refuses.
func outputTokens(raw json.RawMessage, limit int64) (n int64, valid bool) {
	if raw == nil || string(raw) == `"inf"` {
		return limit, true
	}
	if json.Unmarshal(raw, &n) != nil || n < 1 || n > rtMaxOutput {
		return limit, false
	}
	return min(n, limit), true
}

// unmetered names a member whose cost the budget cannot see: a stored
// prompt (server-side context), MCP tools (calls the provider makes and
// bills), input transcription (another model's usage, reported apart).
func unmetered(obj map[string]json.RawMessage, prefix string) string {
	if raw, ok := obj["prompt"]; ok && string(raw) != "null" {
		return prefix + ".prompt"
	}
	var tools []struct {
		Type string `json:"type"`
	}
	if raw, ok := obj["tools"]; ok && json.Unmarshal(raw, &tools) == nil {
		for _, t := range tools {
			if t.Type != "function" {
				return prefix + ".tools"
			}
		}
	}
	if audio := objectField(obj, "audio"); audio != nil {
		if input := objectField(audio, "input"); input != nil {
			if raw, ok := input["transcription"]; ok && string(raw) != "null" {
				return prefix + ".audio.input.transcription"
			}
		}
	}
	return ""
}

// watch reads the provider events that start, end or refuse responses
// and change turn detection; it keeps the answer to the relay's own
// session.update from the client.
func (m *rtMeter) watch(typ string, event []byte) (drop bool) {
	if !m.enforcing() {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch typ {
	case "session.created", "session.updated":
		return m.sessionEvent(typ, event)
	case "response.created":
		m.responseCreated(event)
	case "response.done":
		m.responseDone(event)
	case "error":
		return m.errorEvent(event)
	}
	return false
}

func (m *rtMeter) sessionEvent(typ string, event []byte) (drop bool) {
	var ev struct {
		Session struct {
			Audio *struct {
				Input struct {
					TurnDetection *struct {
						CreateResponse *bool `json:"create_response"`
					} `json:"turn_detection"`
				} `json:"input"`
			} `json:"audio"`
		} `json:"session"`
	}
	if json.Unmarshal(event, &ev) == nil && ev.Session.Audio != nil {
		td := ev.Session.Audio.Input.TurnDetection
		m.autoOn = td != nil && (td.CreateResponse == nil || *td.CreateResponse)
	}
	if typ == "session.created" {
		m.context += sessionContext(event)
	} else if m.ownUpdate != "" {
		// Updates are answered in order, and the relay's went first.
		m.ownUpdate, drop = "", true
	} else {
		for id := range m.turnPending {
			delete(m.turnPending, id)
			break
		}
	}
	if m.budget > 0 && !m.hold(0, 0, 0) {
		m.end("budget_exceeded: the token's budget cannot hold the next response")
	}
	return drop
}

func (m *rtMeter) responseCreated(event []byte) {
	if m.budget == 0 {
		return
	}
	id := responseID(event)
	switch {
	case len(m.pending) > 0:
		// The oldest response.create, as the provider takes them — or a
		// response of turn detection racing it, which the spare covers:
		// whichever this is, it holds the larger of the two.
		slot := m.pending[0]
		if m.spareHeld {
			slot.tokens = max(slot.tokens, m.spare())
		}
		m.active[id] = slot
		m.pending = m.pending[1:]
	case m.spareHeld:
		m.active[id] = rtSlot{tokens: m.spare(), writes: true}
	default:
		// The provider started a response no reservation covers: end it
		// now, charged as much as a response may cost.
		m.unsettled += m.spare()
		m.end("budget_exceeded: the provider started a response the token's budget cannot hold")
		return
	}
	if !m.hold(0, 0, 0) {
		m.end("budget_exceeded: the token's budget cannot hold the next response")
	}
}

func (m *rtMeter) responseDone(event []byte) {
	if m.budget == 0 {
		return
	}
	var ev struct {
		Response struct {
			ID    string `json:"id"`
			Usage *struct {
				InputTokens  int64 `json:"input_tokens"`
				OutputTokens int64 `json:"output_tokens"`
			} `json:"usage"`
		} `json:"response"`
	}
	_ = json.Unmarshal(event, &ev)
	slot := m.active[ev.Response.ID]
	delete(m.active, ev.Response.ID)
	var in, out int64
	if u := ev.Response.Usage; u != nil {
		in, out = max(u.InputTokens, 0), max(u.OutputTokens, 0)
	} else {
		out = slot.tokens // no usage: charged what it may have cost
	}
	// The answer joins the conversation. The provider's own count of it
	// replaces the estimate when larger, or — for a response whose input
	// was the conversation when the relay forwarded its response.create —
	// the estimate altogether: its input, its answer, and what was
	// forwarded since.
	m.context = max(m.context+out, in+out)
	if slot.readsAll && ev.Response.Usage != nil {
		m.context = in + out + (m.added - slot.addedAt)
	}
	if !m.hold(in, out, 0) {
		m.end("budget_exceeded: the token's budget cannot hold the next response")
	}
}

// errorEvent frees the reservation of a response.create the provider
// refused, and notes a refused session.update.
func (m *rtMeter) errorEvent(event []byte) (drop bool) {
	var ev struct {
		Error struct {
			EventID string `json:"event_id"`
		} `json:"error"`
	}
	if json.Unmarshal(event, &ev) != nil || ev.Error.EventID == "" {
		return false
	}
	id := ev.Error.EventID
	if id == m.ownUpdate {
		m.ownUpdate = ""
		m.endWith(websocket.StatusInternalError, "upstream_error: the provider refused the relay's output cap")
		return true
	}
	delete(m.turnPending, id)
	for i, p := range m.pending {
		if p.eventID == id {
			m.pending = append(m.pending[:i], m.pending[i+1:]...)
			if m.budget > 0 {
				m.hold(0, 0, 0)
			}
			break
		}
	}
	return false
}

// spareNeeded: the provider may start a response by itself now — turn
// detection creates responses, and no response is writing to the default
// conversation ("Only one Response can write to the default Conversation
// at a time": one the provider starts comes after that one's
// response.done, which the relay reads first; it then holds the spare or
// closes the session, between responses, before the user's next turn
// has ended).
func (m *rtMeter) spareNeeded() bool {
	if !m.autoOn && len(m.turnPending) == 0 {
		return false
	}
	for _, a := range m.active {
		if a.writes {
			return false
		}
	}
	return true
}

// want is what the lease must hold: every response started or asked for,
// and a spare one while the provider may start one by itself.
func (m *rtMeter) want() int64 {
	var w int64
	for _, a := range m.active {
		w += a.tokens
	}
	for _, p := range m.pending {
		w += p.tokens
	}
	if m.spareNeeded() {
		w += m.spare()
	}
	return w
}

// spare is what a response the provider may start by itself may cost.
func (m *rtMeter) spare() int64 { return max(m.spareContext, m.context) + m.outCap }

// hold charges what responses used and re-sizes the lease to want plus
// extra; it reports whether the lease holds all of it. A store failure
// or a lapsed lease ends the session (what the relay cannot meter, it
// does not relay).
func (m *rtMeter) hold(prompt, completion, extra int64) bool {
	base := m.want()
	want := base + extra
	start := time.Now()
	ctx, cancel := context.WithTimeout(m.h.closing, 10*time.Second)
	defer cancel()
	held, err := m.h.opts.Store.Hold(ctx, store.Hold{
		TokenID: m.c.claims.ID, LeaseID: m.c.grant.LeaseID, TokenBudget: m.budget,
		PromptTokens: prompt, CompletionTokens: completion, Want: want, Now: m.h.now(),
	})
	m.h.opts.Metrics.StoreLatency("hold", time.Since(start), err)
	switch {
	case err != nil:
		m.h.log.Error("realtime: usage store unreachable: session ended", "jti", m.c.claims.ID, "err", err)
		m.unsettled += prompt + completion
		m.endWith(websocket.StatusInternalError, "store_unavailable: the relay cannot meter the session")
		return false
	case held.Lapsed:
		m.endWith(websocket.StatusInternalError, "lease_expired: the session's reservation lapsed")
		return false
	}
	m.prompt += prompt
	m.completion += completion
	m.held = held.Reserved
	m.spareHeld = m.spareNeeded() && m.held >= base
	return m.held >= want
}

func (m *rtMeter) end(reason string) { m.endWith(realtime.CodeBudget, reason) }

func (m *rtMeter) endWith(code websocket.StatusCode, reason string) {
	if m.ended {
		return
	}
	m.ended = true
	select {
	case m.stop <- realtime.End{Code: code, Reason: reason, By: "relay"}:
	default: // already ending (revocation)
	}
}

// settlement is what the session charged along the way, and what its
// settlement must still charge: responses that never reported their
// usage are charged what they may have cost (failing closed).
func (m *rtMeter) settlement() (prompt, completion, unsettled int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	unsettled = m.unsettled
	for _, a := range m.active {
		unsettled += a.tokens
	}
	for _, p := range m.pending {
		unsettled += p.tokens
	}
	return m.prompt, m.completion, unsettled
}

// decodeEvent reads an event as the provider does (exact keys, the last
// of repeated ones) with the object member name, nil when absent.
func decodeEvent(event []byte, name string) (top, inner map[string]json.RawMessage, ok bool) {
	if json.Unmarshal(event, &top) != nil || top == nil {
		return nil, nil, false
	}
	raw, present := top[name]
	if !present || string(raw) == "null" {
		return top, nil, true
	}
	if json.Unmarshal(raw, &inner) != nil || inner == nil {
		return nil, nil, false
	}
	return top, inner, true
}

func objectField(obj map[string]json.RawMessage, name string) map[string]json.RawMessage {
	var v map[string]json.RawMessage
	if json.Unmarshal(obj[name], &v) != nil {
		return nil
	}
	return v
}

// sessionContext over-estimates the context a new session starts with:
// its instructions and tools, a byte per token.
func sessionContext(event []byte) int64 {
	var ev struct {
		Session struct {
			Instructions json.RawMessage `json:"instructions"`
			Tools        json.RawMessage `json:"tools"`
		} `json:"session"`
	}
	if json.Unmarshal(event, &ev) != nil {
		return int64(len(event))
	}
	return int64(len(ev.Session.Instructions)+len(ev.Session.Tools)) + 64
}

func responseID(event []byte) string {
	var ev struct {
		Response struct {
			ID string `json:"id"`
		} `json:"response"`
	}
	_ = json.Unmarshal(event, &ev)
	return ev.Response.ID
}

func budgetEvent(id string) []byte {
	return realtimeError(id, "budget_exceeded", "The token's token budget cannot hold this response.", "")
}

// notObjectEvent refuses what the relay cannot read, as the provider
// would refuse it.
func notObjectEvent(id, param string) []byte {
	return realtimeError(id, "invalid_type", "Invalid type for '"+param+"': expected an object.", param)
}

func notMeteredEvent(id, param string) []byte {
	return realtimeError(id, "parameter_not_metered",
		"This token has a token_budget, and "+param+" brings in usage the relay cannot meter.", param)
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func mustString(v any) string { return string(mustJSON(v)) }

package mockprovider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The OpenAI Realtime API (GA) over WebSocket:
//
//	GET /v1/realtime?model=M                 (https://platform.openai.com/docs/guides/realtime-websocket)
//	GET /openai/v1/realtime?model=DEPLOYMENT  Azure OpenAI's GA endpoint (azure.go)
//
// The client events are those of
// https://platform.openai.com/docs/api-reference/realtime-client-events, the
// server events those of
// https://platform.openai.com/docs/api-reference/realtime-server-events,
// checked against the TypeScript types openai-node generates from the
// OpenAPI spec (e2e/browser/node_modules/openai/resources/realtime/realtime.d.ts)
// and the examples of https://github.com/openai/openai-openapi openapi.yaml
// (RealtimeServerEvent*). The conversation flow follows
// https://platform.openai.com/docs/guides/realtime-conversations.
//
// Where the docs are silent the mock copies what api.openai.com was seen
// doing on the wire (the reports are cited where they are used):
//
//   - The upgrade always succeeds: a missing or wrong key, a missing or
//     unknown model and the retired beta shape (OpenAI-Beta: realtime=v1)
//     are answered after the 101 with one `error` event and a close frame in
//     the same instant, code 3000 for authentication, 4000 for the request,
//     reason "<error.type>.<error.code>". Tests that want the handshake
//     itself refused (an OpenAI-compatible server might) use x-mock-status.
//   - Any other error (bad JSON, unknown event, bad parameter…) is an
//     `error` event and the session stays open.
//   - The server pings every 20 s (Options.RealtimePingInterval).
//
// Turn detection (https://platform.openai.com/docs/guides/realtime-vad;
// session.audio.input.turn_detection and the server events
// input_audio_buffer.speech_started, input_audio_buffer.speech_stopped and
// input_audio_buffer.committed in the API reference). The real default is
// server_vad ("enabled by default in speech-to-speech Realtime sessions");
// the mock's session.created has turn_detection null, so audio waits for
// input_audio_buffer.commit and response.create until a session.update
// sets {"type":"server_vad"} or {"type":"semantic_vad"} (the mock treats
// both alike). The update is validated like any session field (an error
// event: invalid_type, invalid_value, unknown_parameter,
// integer_below_min_value…) and echoed with the defaults of its type filled
// in: silence_duration_ms 500, prefix_padding_ms 300, threshold 0.5,
// idle_timeout_ms null, create_response and interrupt_response true
// (semantic_vad: eagerness "auto"). silence_duration_ms and
// prefix_padding_ms are "Used only for server_vad mode": semantic_vad
// always waits 500 ms and pads 300 ms. threshold, eagerness and
// idle_timeout_ms are checked and ignored (the mock never sends
// input_audio_buffer.timeout_triggered). With turn detection on, the VAD is
// deterministic in audio time, never wall-clock time:
//
//   - the buffer is cut into 100 ms frames of the input format (4,800 bytes
//     of audio/pcm, 800 of G.711), counted from the buffer's first byte
//     (after a commit or a clear); an incomplete frame waits for the next
//     append;
//   - a frame is speech if it holds one non-silent sample: a PCM sample
//     other than 0, a G.711 byte other than the codes of silence (μ-law
//     0xFF/0x7F, A-law 0xD5/0x55). The real VAD compares the audio's energy
//     with threshold; "non-silent sample" stands in for it, so tests send
//     zero bytes for silence and any other bytes for speech;
//   - the first speech frame of a turn sends input_audio_buffer.speech_started
//     {audio_start_ms, item_id}: audio_start_ms is the frame's start minus
//     prefix_padding_ms (not before the buffer's first byte), in ms of all
//     input audio of the session, item_id the id the committed item will
//     have. With interrupt_response, a response writing to the default
//     conversation is cancelled as response.cancel would (its item and part
//     end, response.done says "cancelled"), with status_details.reason
//     "turn_detected"; the mock sends its remaining events at once, right
//     after speech_started;
//   - silence_duration_ms of silent frames after speech (rounded up to whole
//     frames) end the turn: input_audio_buffer.speech_stopped
//     {audio_end_ms (the end of that last silent frame), item_id}, then the
//     commit of input_audio_buffer.commit (input_audio_buffer.committed,
//     conversation.item.added, conversation.item.done) of the buffer up to
//     that frame, the rest of the append starting the next buffer; then,
//     with create_response, the response of a response.create without
//     parameters: the same events, usage, caps (session max_output_tokens)
//     and rule of one active response per conversation (with
//     interrupt_response false and a response still active: the error
//     conversation_already_has_active_response, event_id null, as "this may
//     fail to create a response if the model is already responding");
//   - silence alone never starts a turn; the committed item is the whole
//     buffer, leading silence included, at 1 token per 100 ms (below);
//   - input_audio_buffer.commit still commits (during speech, the item
//     takes the id speech_started announced and the turn ends without
//     speech_stopped), input_audio_buffer.clear drops the turn too.
//
// For example, with turn_detection {"type":"server_vad"} and audio/pcm,
// appending 300 ms of speech (14,400 non-zero bytes) and 500 ms of silence
// (24,000 zero bytes), in any number of appends, sends speech_started
// (audio_start_ms 0), speech_stopped (audio_end_ms 800), committed,
// conversation.item.added, conversation.item.done, then a response whose
// usage has 8 input audio tokens.
//
// Deterministic usage (response.done's response.usage):
//
//   - input text tokens: the session (or response) instructions plus every
//     text item of the conversation (user, system, function call and output,
//     assistant text), each counted with [PromptTokens]; the transcript a
//     client attaches to input_audio is not input ("not sent to the model");
//   - input audio tokens: every audio item, user audio at 1 token per 100 ms
//     ("Audio tokens in user messages are 1 token per 100 ms of audio, while
//     audio tokens in assistant messages are 1 token per 50ms of audio",
//     https://platform.openai.com/docs/guides/realtime-costs): 4,800 bytes of
//     audio/pcm (24 kHz, 16-bit mono), 800 bytes of audio/pcmu or audio/pcma
//     (8 kHz, 8-bit), rounded up; an assistant audio answer is input to later
//     turns with its output audio tokens;
//   - output: the completion of [CompletionTokens] for the last user text
//     (input_text parts, and the transcript of input_audio parts when the
//     client gave one), one text token per word token; with
//     output_modalities ["audio"] each word is also spoken as 100 ms of
//     silence, [RealtimeAudioTokensPerWord] audio tokens (50 ms each), and its
//     text is the transcript;
//   - cached tokens: "The entire conversation is sent to the model for each
//     Response" (realtime-costs), so a turn re-reads the previous turn's
//     input and output; once that prefix reaches 1,024 tokens it counts as
//     cached in 128-token steps (https://platform.openai.com/docs/guides/prompt-caching),
//     text first, then audio.
//
// Realtime test controls, as headers of the upgrade request (a relay
// forwards the ones its operator allows), besides x-mock-status,
// x-mock-delay-ms, x-mock-fail-first/x-mock-fault-id (the handshake),
// x-mock-chunks, x-mock-chunk-tokens, x-mock-chunk-delay-ms (between
// deltas), x-mock-disconnect-after (drop the TCP connection, no close frame,
// before delta N), x-mock-stall-after (go silent before delta N),
// x-mock-stream-forever (deltas until response.cancel),
// x-mock-ignore-max-tokens and x-mock-omit-usage (response.done with
// usage null):
//
//	x-mock-realtime-close-after: N   close the socket with 1011 right after the Nth server event
//	x-mock-realtime-usage-scale: K   multiply every usage count by K (a long session in a few events)

// Defaults of the Realtime options.
const (
	// DefaultRealtimeMaxSession: "Realtime sessions can now last up to 60
	// minutes, up from 30 minutes" (the GA developer notes, quoted in
	// https://community.openai.com/t/realtime-api-session-timeout-post-ga/1357331).
	DefaultRealtimeMaxSession = 60 * time.Minute
	// DefaultRealtimeMaxMessageBytes: an input_audio_buffer.append carries
	// "up to a maximum of 15 MiB"
	// (https://platform.openai.com/docs/api-reference/realtime-client-events/input_audio_buffer/append).
	DefaultRealtimeMaxMessageBytes = 15 << 20
	// DefaultRealtimePingInterval: api.openai.com pings an idle session
	// about every 20 s (a published WebSocket capture of the GA API, "WebSocket
	// captures: Inworld TTS/STT and OpenAI Realtime (2026-09-18)": "server
	// PING every 20.26 s (4-byte random payload)").
	DefaultRealtimePingInterval = 20 * time.Second
)

// RealtimeDefaultInstructions are the instructions of a new session, as the
// real API sets default ones "visible in the session.created event".
const RealtimeDefaultInstructions = "You are a helpful, witty, and friendly AI."

// RealtimeAudioTokensPerWord is the output audio tokens the mock spends
// speaking one word token (100 ms at 1 token per 50 ms).
const RealtimeAudioTokensPerWord = 2

const (
	rtKeyProtocolPrefix = "openai-insecure-api-key."
	rtMaxOutputTokens   = 4096 // "an integer between 1 and 4096 … or inf" (RealtimeSessionCreateRequest.max_output_tokens)
	rtMaxCloseAfter     = 1_000_000
	rtMaxUsageScale     = 1_000_000
	rtRateLimitTokens   = 15_000_000
	rtCacheMinTokens    = 1024
	rtCacheStep         = 128
	rtCloseAuth         = websocket.StatusCode(3000)
	rtCloseRequest      = websocket.StatusCode(4000)
	rtDefaultVoice      = "marin"
	rtPCMBytesPer100ms  = 4800             // 24 kHz × 2 bytes × 0.1 s
	rtG711BytesPer100ms = 800              // 8 kHz × 1 byte × 0.1 s
	rtWriteTimeout      = 30 * time.Second // a client that stops reading loses the session
)

// realtimeRoute is GET /v1/realtime (check nil: the key is checked after
// the upgrade, see admit) or Azure's /openai/v1/realtime (check: Azure's
// key, refused before the upgrade like its other endpoints).
func realtimeRoute(r *http.Request, check func(*call) bool) route {
	return route{method: http.MethodGet, handle: (*call).realtime, check: check,
		realtime: true, stream: true, model: r.URL.Query().Get("model")}
}

// serveRealtime answers a Realtime request: the controls and the route's
// checks as for any request, then the upgrade and the session. The session
// is recorded (by key, path, model) like any request, with status 101 once
// upgraded.
func (p *Provider) serveRealtime(w http.ResponseWriter, r *http.Request, rt route) {
	rec := p.record(r, nil, rt)
	sw := &statusWriter{ResponseWriter: w}
	defer func() { p.finish(rec, sw.status()) }()
	c := &call{p: p, w: sw, r: r, rec: rec, model: rt.model}
	if c.applyControls(apiOpenAI) == nil {
		c.serve(rt)
	}
}

// subprotocolKey is the key a browser sends as the subprotocol
// openai-insecure-api-key.KEY
// (https://platform.openai.com/docs/guides/realtime-websocket).
func subprotocolKey(r *http.Request) string {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if k, ok := strings.CutPrefix(strings.TrimSpace(p), rtKeyProtocolPrefix); ok {
				return k
			}
		}
	}
	return ""
}

// rtControls are the realtime-only test controls.
type rtControls struct {
	closeAfter int
	scale      int
}

func (c *call) realtimeControls() (rtControls, bool) {
	ctl := rtControls{scale: 1}
	for _, h := range []struct {
		name   string
		lo, hi int
		dst    *int
	}{
		{name: "X-Mock-Realtime-Close-After", lo: 1, hi: rtMaxCloseAfter, dst: &ctl.closeAfter},
		{name: "X-Mock-Realtime-Usage-Scale", lo: 1, hi: rtMaxUsageScale, dst: &ctl.scale},
	} {
		v := c.r.Header.Get(h.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < h.lo || n > h.hi {
			c.fail(apiOpenAI, http.StatusBadRequest, fmt.Sprintf("invalid %s header %q (want an integer %d–%d)", h.name, v, h.lo, h.hi))
			return ctl, false
		}
		*h.dst = n
	}
	return ctl, true
}

// realtime upgrades the request and runs the session.
func (c *call) realtime() {
	ctl, ok := c.realtimeControls()
	if !ok {
		return
	}
	conn, err := websocket.Accept(c.w, c.r, &websocket.AcceptOptions{
		// Browsers connect straight to api.openai.com with the key
		// subprotocol, from any origin; the server picks "realtime".
		Subprotocols:       []string{"realtime"},
		InsecureSkipVerify: true,
		// api.openai.com answers the upgrade with
		// "sec-websocket-extensions: permessage-deflate" when offered.
		CompressionMode: websocket.CompressionContextTakeover,
	})
	if err != nil {
		return // Accept answered (426 for a plain GET…)
	}
	conn.SetReadLimit(c.p.opts.RealtimeMaxMessageBytes)
	s := &rtSession{c: c, conn: conn, ctl: ctl, model: c.model}
	s.run()
}

// realtimeModelRefused reports whether model is one the mock knows is not a
// Realtime model (a chat, reasoning, embedding, image or Claude model); the
// real API refuses those with invalid_model. Names the mock does not know
// (tests use "m") are accepted, as on its other endpoints.
func realtimeModelRefused(model string) bool {
	if strings.Contains(model, "realtime") || strings.HasPrefix(model, "gpt-audio") {
		return false
	}
	if _, ok := lookupModel(openAIOutputLimits, model); ok {
		return true
	}
	if _, ok := lookupModel(anthropicOutputLimits, model); ok {
		return true
	}
	return slices.Contains(Models, model)
}

// rtSessions tracks the open sessions so the provider can end them.
type rtSessions struct {
	mu   sync.Mutex
	next int
	live map[int]context.CancelCauseFunc
}

var errRealtimeShutdown = errors.New("mock provider closing its realtime sessions")

func (s *rtSessions) add(cancel context.CancelCauseFunc) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live == nil {
		s.live = map[int]context.CancelCauseFunc{}
	}
	s.next++
	s.live[s.next] = cancel
	return s.next
}

func (s *rtSessions) remove(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.live, id)
}

// CloseRealtime ends every open Realtime session with close code 1001
// (going away), as a provider restarting would. A server shutting down
// calls it (http.Server does not track hijacked connections), and so can a
// test before closing an httptest.Server, whose Close waits for them.
func (p *Provider) CloseRealtime() {
	p.sessions.mu.Lock()
	defer p.sessions.mu.Unlock()
	for _, cancel := range p.sessions.live {
		cancel(errRealtimeShutdown)
	}
}

// rtItem is one item of a conversation.
type rtItem struct {
	id          string
	obj         map[string]any // as echoed: no audio bytes
	role        string
	text        string // what the mock hears in it: text parts and audio transcripts
	textTokens  int
	audioTokens int
}

// rtSession is one open Realtime session.
type rtSession struct {
	c     *call
	conn  *websocket.Conn
	ctx   context.Context // the connection's I/O
	stop  context.Context // done: close the session (CloseRealtime)
	ctl   rtControls
	model string

	cfg         map[string]any // the session object (session.created / session.updated)
	convID      string
	items       []*rtItem // the default conversation
	audioBuf    int       // bytes in the input audio buffer
	audio       rtAudioIn // the input audio timeline and the server VAD (realtime_vad.go)
	voiceLocked bool      // assistant audio was produced: the voice is fixed
	prevContext int       // input + output tokens of the last response in the conversation

	active *rtResponse
	queue  []*rtResponse // out-of-band responses waiting for the active one
	timer  *time.Timer   // the chunk delay before active's next delta
	held   *rtStep       // the delta waiting for timer
	paused bool          // x-mock-stall-after reached: silent until the client leaves

	sent            int // server events written
	billIn, billOut int // produced usage of the session (scaled)
}

// rtEnd ends a session; outcome picks the stats counter.
type rtEnd struct {
	outcome rtOutcome
	err     error
}

type rtOutcome int

const (
	rtCompleted    rtOutcome = iota // a close handshake, either side
	rtCanceled                      // the client vanished without a close frame
	rtDisconnected                  // the mock dropped or closed it on purpose (a fault control)
)

func (e *rtEnd) Error() string {
	return fmt.Sprintf("realtime session ended (%d): %v", e.outcome, e.err)
}

// rtMsg is one message the reader got.
type rtMsg struct {
	typ  websocket.MessageType
	data []byte
	err  error
}

func (s *rtSession) run() {
	// stop asks the loop to end the session (CloseRealtime); io bounds the
	// connection's reads and writes, which must outlive stop so the loop
	// can still send its close frame.
	stop, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	s.stop = stop
	io, ioCancel := context.WithCancel(context.Background())
	defer ioCancel()
	s.ctx = io
	id := s.c.p.sessions.add(cancel)
	defer s.c.p.sessions.remove(id)

	in := make(chan rtMsg)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.read(in)
	}()
	go func() {
		defer wg.Done()
		s.ping()
	}()

	end := s.loop(in)
	_ = s.conn.CloseNow() // a no-op after a close handshake
	ioCancel()
	wg.Wait()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.c.p.count(func(st *Stats) {
		switch end.outcome {
		case rtCompleted:
			st.Streams++
		case rtDisconnected:
			st.Disconnected++
		default:
			st.Canceled++
		}
	})
}

// read hands every client message to the session loop until the
// connection fails or closes.
func (s *rtSession) read(in chan<- rtMsg) {
	for {
		typ, data, err := s.conn.Read(s.ctx)
		select {
		case in <- rtMsg{typ: typ, data: data, err: err}:
		case <-s.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// ping pings the client every RealtimePingInterval, as api.openai.com does
// (about every 20 s); the library answers the client's pings.
func (s *rtSession) ping() {
	d := s.c.p.opts.RealtimePingInterval
	if d <= 0 {
		<-s.ctx.Done()
		return
	}
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.ctx, d)
			_ = s.conn.Ping(ctx)
			cancel()
		}
	}
}

// loop runs the session until it ends.
func (s *rtSession) loop(in <-chan rtMsg) *rtEnd {
	if end := s.admit(); end != nil {
		return end
	}
	s.convID = s.c.newID("conv_")
	s.cfg = s.defaultConfig()
	if end := s.send(s.event("session.created", "session", s.cfg)); end != nil {
		return end
	}
	expire := time.NewTimer(s.c.p.opts.RealtimeMaxSession)
	defer expire.Stop()
	for {
		var end *rtEnd
		var tick <-chan time.Time
		if s.timer != nil {
			tick = s.timer.C
		}
		if s.active != nil && s.timer == nil && !s.paused {
			// A response is streaming: keep reading while it does.
			select {
			case m := <-in:
				// Handle it, and stream on: a client sending without a
				// pause (audio appends) must not starve the response.
				if end = s.handle(m); end == nil && s.active != nil && s.timer == nil && !s.paused {
					end = s.advance()
				}
			case <-expire.C:
				end = s.expire()
			case <-s.stop.Done():
				end = s.shutdown()
			default:
				end = s.advance()
			}
		} else {
			select {
			case m := <-in:
				end = s.handle(m)
			case <-tick:
				s.timer = nil
				end = s.release()
			case <-expire.C:
				end = s.expire()
			case <-s.stop.Done():
				end = s.shutdown()
			}
		}
		if end != nil {
			return end
		}
	}
}

// admit refuses, after the upgrade, what api.openai.com refuses after it:
// "received 3000 (registered) invalid_request_error.invalid_api_key"
// (https://github.com/twilio-samples/speech-assistant-openai-realtime-api-python/issues/4;
// "If I use a random string for the API key I get a successful connection
// and a different error message as a websocket message",
// https://github.com/openai/openai-realtime-api-beta/issues/2), an unknown
// model: an invalid_model error then "ws close 4000
// reason=invalid_request_error.invalid_model"
// (https://github.com/livekit/agents-js/issues/1756). The codes, close codes
// and reasons of a missing key, a missing model and the beta header, and the
// first two messages, are those the capture cited at
// DefaultRealtimePingInterval recorded; the beta message is the mock's.
func (s *rtSession) admit() *rtEnd {
	h := s.c.r.Header
	key := ""
	if k, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer "); ok {
		key = strings.TrimSpace(k)
	} else if h.Get("Authorization") == "" {
		key = subprotocolKey(s.c.r)
	}
	azure := strings.HasPrefix(s.c.r.URL.Path, "/openai/")
	keys := s.c.p.opts.RealtimeKeys
	switch {
	case azure:
		// azureV1Check refused a missing key before the upgrade.
	case key == "":
		return s.refuse(rtCloseAuth, "", "", "Missing bearer or basic authentication in header")
	case len(keys) > 0 && !slices.Contains(keys, key):
		return s.refuse(rtCloseAuth, "invalid_api_key", "", fmt.Sprintf(
			"Incorrect API key provided: %s. You can find your API key at https://platform.openai.com/account/api-keys.", maskKey(key)))
	}
	switch {
	case s.model == "":
		return s.refuse(rtCloseRequest, "missing_model", "",
			"You must provide a model parameter, for example wss://api.openai.com/v1/realtime?model=gpt-realtime-1.5")
	case realtimeModelRefused(s.model):
		return s.refuse(rtCloseRequest, "invalid_model", "",
			fmt.Sprintf("Model %q is not supported in realtime mode.", s.model))
	case strings.Contains(strings.ToLower(h.Get("OpenAI-Beta")), "realtime=v1"):
		return s.refuse(rtCloseRequest, "beta_api_shape_disabled", "",
			"The beta Realtime API shape (OpenAI-Beta: realtime=v1) is not available: use the GA interface.")
	}
	return nil
}

// maskKey shows a key as OpenAI's errors do: its start, stars, its end.
func maskKey(k string) string {
	if len(k) <= 8 {
		return strings.Repeat("*", len(k))
	}
	return k[:3] + strings.Repeat("*", min(len(k)-7, 16)) + k[len(k)-4:]
}

// refuse sends a fatal error event and closes with code and the reason
// "<type>[.<code>]".
func (s *rtSession) refuse(code websocket.StatusCode, errCode, param, msg string) *rtEnd {
	if end := s.fail("", errCode, param, msg); end != nil {
		return end
	}
	reason := "invalid_request_error"
	if errCode != "" {
		reason += "." + errCode
	}
	return s.closeWith(code, reason, rtCompleted)
}

// closeWith runs the close handshake.
func (s *rtSession) closeWith(code websocket.StatusCode, reason string, outcome rtOutcome) *rtEnd {
	err := s.conn.Close(code, reason)
	return &rtEnd{outcome: outcome, err: err}
}

// expire ends a session that reached the maximum duration, as the real API
// does: {"type":"error",…,"error":{"type":"invalid_request_error","code":
// "session_expired","message":"Your session hit the maximum duration of 15
// minutes.","param":null,"event_id":null}}
// (https://community.openai.com/t/realtime-api-session-expired/975036), then
// the close of a fatal request error (4000, reason type.code).
func (s *rtSession) expire() *rtEnd {
	d := s.c.p.opts.RealtimeMaxSession
	human := d.String()
	if d%time.Minute == 0 {
		human = fmt.Sprintf("%d minutes", int(d/time.Minute))
	}
	return s.refuse(rtCloseRequest, "session_expired", "", "Your session hit the maximum duration of "+human+".")
}

// shutdown ends the session when the provider closes its sessions.
func (s *rtSession) shutdown() *rtEnd {
	return s.closeWith(websocket.StatusGoingAway, "mock provider closing", rtCompleted)
}

// send writes one server event; x-mock-realtime-close-after closes the
// socket (1011) once that many were sent.
func (s *rtSession) send(ev map[string]any) *rtEnd {
	b, err := json.Marshal(ev)
	if err != nil {
		return &rtEnd{outcome: rtCanceled, err: err}
	}
	ctx, cancel := context.WithTimeout(s.ctx, rtWriteTimeout)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, b); err != nil {
		return &rtEnd{outcome: rtCanceled, err: err}
	}
	s.sent++
	if s.ctl.closeAfter > 0 && s.sent >= s.ctl.closeAfter {
		return s.closeWith(websocket.StatusInternalError,
			fmt.Sprintf("mock: closed after %d server events (x-mock-realtime-close-after)", s.sent), rtDisconnected)
	}
	return nil
}

// event builds a server event: type, a fresh event_id, then kv pairs.
func (s *rtSession) event(typ string, kv ...any) map[string]any {
	ev := map[string]any{"type": typ, "event_id": s.c.newID("event_")}
	for i := 0; i+1 < len(kv); i += 2 {
		ev[kv[i].(string)] = kv[i+1]
	}
	return ev
}

// fail sends the error event of
// https://platform.openai.com/docs/api-reference/realtime-server-events/error:
// {"type":"error","event_id":…,"error":{"type":"invalid_request_error",
// "code":…,"message":…,"param":…,"event_id":<the client's event_id>}}.
// The session stays open ("Most errors are recoverable and the session will
// stay open").
func (s *rtSession) fail(clientEventID, code, param, msg string) *rtEnd {
	return s.send(s.event("error", "error", map[string]any{
		"type": "invalid_request_error", "code": orNull(code), "message": msg,
		"param": orNull(param), "event_id": orNull(clientEventID),
	}))
}

func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// rtClientEvents are the GA client event types, in the order the real API
// lists them when it refuses another.
var rtClientEvents = []string{
	"session.update", "input_audio_buffer.append", "input_audio_buffer.commit", "input_audio_buffer.clear",
	"conversation.item.create", "conversation.item.truncate", "conversation.item.delete",
	"conversation.item.retrieve", "response.create", "response.cancel", "output_audio_buffer.clear",
}

// handle processes one message from the client.
func (s *rtSession) handle(m rtMsg) *rtEnd {
	if m.err != nil {
		if websocket.CloseStatus(m.err) != -1 {
			return &rtEnd{outcome: rtCompleted, err: m.err}
		}
		if errors.Is(m.err, websocket.ErrMessageTooBig) {
			// The library closed with 1009 (message too big).
			return &rtEnd{outcome: rtCompleted, err: m.err}
		}
		return &rtEnd{outcome: rtCanceled, err: m.err}
	}
	if s.paused {
		return nil
	}
	// Malformed input is an error event, the session stays open, as the
	// capture cited at DefaultRealtimePingInterval recorded: a binary frame
	// is invalid_event, a text that is not JSON invalid_json, an unknown
	// type invalid_value on "type", an unknown session field
	// unknown_parameter.
	if m.typ != websocket.MessageText {
		return s.fail("", "invalid_event", "", "Expected a text WebSocket message; binary frames are not supported.")
	}
	var head struct {
		Type    *string `json:"type"`
		EventID string  `json:"event_id"`
	}
	var obj map[string]json.RawMessage
	switch {
	case !json.Valid(m.data):
		return s.fail("", "invalid_json", "", "Invalid event: failed to parse JSON value.")
	case json.Unmarshal(m.data, &obj) != nil || obj == nil:
		return s.fail("", "invalid_event", "", "Invalid event: expected a JSON object.")
	}
	if err := json.Unmarshal(m.data, &head); err != nil {
		return s.fail("", "invalid_type", "", "Invalid event: "+err.Error())
	}
	if head.Type == nil {
		return s.fail(head.EventID, "invalid_event", "", "The 'type' field is missing.")
	}
	ev := rtEvent{id: head.EventID, raw: m.data}
	switch *head.Type {
	case "session.update":
		return s.sessionUpdate(ev)
	case "input_audio_buffer.append":
		return s.audioAppend(ev)
	case "input_audio_buffer.commit":
		return s.audioCommit(ev)
	case "input_audio_buffer.clear":
		s.emptyAudioBuffer()
		return s.send(s.event("input_audio_buffer.cleared"))
	case "conversation.item.create":
		return s.itemCreate(ev)
	case "conversation.item.truncate":
		return s.itemTruncate(ev)
	case "conversation.item.delete":
		return s.itemDelete(ev)
	case "conversation.item.retrieve":
		return s.itemRetrieve(ev)
	case "response.create":
		return s.responseCreate(ev)
	case "response.cancel":
		return s.responseCancel(ev)
	case "output_audio_buffer.clear":
		// "WebRTC/SIP Only" (OutputAudioBufferClearEvent).
		return s.fail(ev.id, "invalid_value", "type",
			"output_audio_buffer.clear is only supported for WebRTC and SIP connections.")
	}
	quoted := make([]string, len(rtClientEvents))
	for i, t := range rtClientEvents {
		quoted[i] = "'" + t + "'"
	}
	return s.fail(ev.id, "invalid_value", "type", fmt.Sprintf("Invalid value: '%s'. Supported values are: %s, and %s.",
		*head.Type, strings.Join(quoted[:len(quoted)-1], ", "), quoted[len(quoted)-1]))
}

// rtEvent is a client event being handled.
type rtEvent struct {
	id  string
	raw []byte
}

// decode parses the event into v; a wrong shape is an error event.
func (s *rtSession) decode(ev rtEvent, v any) (*rtEnd, bool) {
	if err := json.Unmarshal(ev.raw, v); err != nil {
		return s.fail(ev.id, "invalid_type", "", "Invalid event: "+err.Error()), false
	}
	return nil, true
}

// defaultConfig is the session of session.created (the shape of the
// session.created example in openapi.yaml), with turn detection off (see
// above).
func (s *rtSession) defaultConfig() map[string]any {
	pcm := func() map[string]any { return map[string]any{"type": "audio/pcm", "rate": 24000} }
	return map[string]any{
		"type": "realtime", "object": "realtime.session", "id": s.c.newID("sess_"), "model": s.model,
		"output_modalities": []any{"audio"}, "instructions": RealtimeDefaultInstructions,
		"tools": []any{}, "tool_choice": "auto", "max_output_tokens": "inf", "tracing": nil,
		"truncation": "auto", "prompt": nil, "include": nil,
		"expires_at": s.c.p.opts.Now().Add(s.c.p.opts.RealtimeMaxSession).Unix(),
		"audio": map[string]any{
			"input":  map[string]any{"format": pcm(), "transcription": nil, "noise_reduction": nil, "turn_detection": nil},
			"output": map[string]any{"format": pcm(), "voice": rtDefaultVoice, "speed": 1},
		},
	}
}

// rtSessionFields are the fields of RealtimeSessionCreateRequest a
// session.update may carry; any other is "Unknown parameter:
// 'session.X'." (unknown_parameter).
var rtSessionFields = []string{
	"type", "audio", "include", "instructions", "max_output_tokens", "model", "output_modalities",
	"parallel_tool_calls", "prompt", "reasoning", "tool_choice", "tools", "tracing", "truncation",
}

// sessionUpdate applies a session.update and answers session.updated with
// the full, effective configuration; "Only the fields that are present in
// the session.update are updated". A refused update changes nothing.
func (s *rtSession) sessionUpdate(ev rtEvent) *rtEnd {
	var e struct {
		Session map[string]any `json:"session"`
	}
	if end, ok := s.decode(ev, &e); !ok {
		return end
	}
	upd := e.Session
	if upd == nil {
		return s.fail(ev.id, "missing_required_parameter", "session", "Missing required parameter: 'session'.")
	}
	keys := make([]string, 0, len(upd))
	for k := range upd {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(rtSessionFields, k) {
			return s.fail(ev.id, "unknown_parameter", "session."+k, fmt.Sprintf("Unknown parameter: 'session.%s'.", k))
		}
	}
	switch t, _ := upd["type"].(string); t {
	case "realtime":
	case "":
		// GA requires the discriminator on every update.
		return s.fail(ev.id, "missing_required_parameter", "session.type", "Missing required parameter: 'session.type'.")
	case "transcription":
		return s.fail(ev.id, "invalid_value", "session.type",
			"Passing a transcription session update event to a realtime session is not allowed.")
	default:
		return s.fail(ev.id, "invalid_value", "session.type",
			fmt.Sprintf("Invalid value: '%s'. Supported values are: 'realtime' and 'transcription'.", t))
	}
	if m, ok := upd["model"]; ok && m != s.model {
		// "The client may send this event at any time to update any field
		// except for voice and model" (SessionUpdateEvent).
		return s.fail(ev.id, "invalid_value", "session.model",
			"Cannot update a session's model: it is set when the session is created (the ?model= of the connection).")
	}
	if v, ok := upd["output_modalities"]; ok {
		if _, ok := rtModalities(v); !ok {
			return s.fail(ev.id, "invalid_value", "session.output_modalities",
				"Invalid modalities: it is not possible to request both text and audio; use [\"text\"] or [\"audio\"].")
		}
	}
	if v, ok := upd["max_output_tokens"]; ok {
		if _, r := rtMaxOutput("session.max_output_tokens", v); r != nil {
			return s.refused(ev.id, r)
		}
	}
	if r := s.checkAudio(upd["audio"]); r != nil {
		return s.refused(ev.id, r)
	}
	per := s.bytesPer100ms("input")
	for _, k := range keys {
		switch k {
		case "type", "model":
		case "audio":
			mergeAudio(s.cfg, upd["audio"])
			audio, _ := upd["audio"].(map[string]any)
			in, _ := audio["input"].(map[string]any)
			if td, ok := in["turn_detection"]; ok {
				s.audioConfig("input")["turn_detection"] = normalTurnDetection(td)
			}
		default:
			s.cfg[k] = upd[k]
		}
	}
	s.vadReconfigured(per)
	return s.send(s.event("session.updated", "session", s.cfg))
}

// checkAudio validates session.audio: the formats the API takes and the
// voice lock.
func (s *rtSession) checkAudio(v any) *rtRefusal {
	if v == nil {
		return nil
	}
	audio, ok := v.(map[string]any)
	if !ok {
		return &rtRefusal{"invalid_type", "session.audio", "Invalid type for 'session.audio': expected an object."}
	}
	for _, dir := range []string{"input", "output"} {
		d, _ := audio[dir].(map[string]any)
		if d == nil {
			continue
		}
		if td, ok := d["turn_detection"]; ok && dir == "input" {
			if r := checkTurnDetection(td); r != nil {
				return r
			}
		}
		if f, ok := d["format"].(map[string]any); ok {
			param := "session.audio." + dir + ".format"
			switch t, _ := f["type"].(string); t {
			case "audio/pcm":
				// "The PCM audio format. Only a 24kHz sample rate is
				// supported." (RealtimeAudioFormats.AudioPCM)
				if r, ok := f["rate"].(float64); ok && r != 24000 {
					return &rtRefusal{"integer_below_min_value", param + ".rate",
						fmt.Sprintf("Invalid '%s.rate': Expected a value >= 24000, but got %v instead.", param, r)}
				}
			case "audio/pcmu", "audio/pcma":
			default:
				return &rtRefusal{"invalid_value", param + ".type", fmt.Sprintf(
					"Invalid value: '%s'. Supported values are: 'audio/pcm', 'audio/pcmu', and 'audio/pcma'.", t)}
			}
		}
		if dir == "output" {
			if voice, ok := d["voice"]; ok && s.voiceLocked && !sameValue(voice, s.audioConfig("output")["voice"]) {
				// "voice can be updated only if there have been no other
				// audio outputs yet" (SessionUpdateEvent).
				return &rtRefusal{"cannot_update_voice", "session.audio.output.voice",
					"Cannot update a conversation's voice if assistant audio is present."}
			}
		}
	}
	return nil
}

func sameValue(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// mergeAudio updates cfg.audio.{input,output} field by field.
func mergeAudio(cfg map[string]any, v any) {
	upd, _ := v.(map[string]any)
	audio, _ := cfg["audio"].(map[string]any)
	if audio == nil {
		audio = map[string]any{}
		cfg["audio"] = audio
	}
	for dir, dv := range upd {
		d, ok := dv.(map[string]any)
		cur, _ := audio[dir].(map[string]any)
		if !ok || cur == nil {
			audio[dir] = dv
			continue
		}
		for k, v := range d {
			cur[k] = v
		}
	}
}

// audioConfig is cfg.audio.input or cfg.audio.output.
func (s *rtSession) audioConfig(dir string) map[string]any {
	audio, _ := s.cfg["audio"].(map[string]any)
	d, _ := audio[dir].(map[string]any)
	if d == nil {
		return map[string]any{}
	}
	return d
}

// bytesPer100ms is the size of 100 ms of audio in the format of dir.
func (s *rtSession) bytesPer100ms(dir string) int {
	f, _ := s.audioConfig(dir)["format"].(map[string]any)
	if t, _ := f["type"].(string); t == "audio/pcmu" || t == "audio/pcma" {
		return rtG711BytesPer100ms
	}
	return rtPCMBytesPer100ms
}

// rtModalities reads output_modalities: ["text"] or ["audio"] ("It is not
// possible to request both text and audio at the same time").
func rtModalities(v any) (audio bool, ok bool) {
	list, _ := v.([]any)
	if len(list) != 1 {
		return false, false
	}
	switch list[0] {
	case "audio":
		return true, true
	case "text":
		return false, true
	}
	return false, false
}

// rtMaxOutput reads max_output_tokens: 1–4096 or "inf" (0 = no cap).
func rtMaxOutput(param string, v any) (int, *rtRefusal) {
	if v == nil || v == "inf" {
		return 0, nil
	}
	f, ok := v.(float64)
	switch {
	case !ok || f != math.Trunc(f):
		return 0, &rtRefusal{"invalid_type", param,
			fmt.Sprintf("Invalid type for '%s': expected an integer or 'inf'.", param)}
	case f < 1:
		return 0, &rtRefusal{"integer_below_min_value", param,
			fmt.Sprintf("Invalid '%s': integer below minimum value. Expected a value >= 1, but got %v instead.", param, f)}
	case f > rtMaxOutputTokens:
		return 0, &rtRefusal{"integer_above_max_value", param,
			fmt.Sprintf("Invalid '%s': integer above maximum value. Expected a value <= %d, but got %v instead.", param, rtMaxOutputTokens, f)}
	}
	return int(f), nil
}

// rtRefusal is an error event to send for a refused client event.
type rtRefusal struct{ code, param, msg string }

func (s *rtSession) refused(evID string, r *rtRefusal) *rtEnd {
	return s.fail(evID, r.code, r.param, r.msg)
}

// audioAppend adds audio to the input buffer; no answer ("the server will
// not send a confirmation response to this event").
func (s *rtSession) audioAppend(ev rtEvent) *rtEnd {
	var e struct {
		Audio *string `json:"audio"`
	}
	if end, ok := s.decode(ev, &e); !ok {
		return end
	}
	if e.Audio == nil {
		return s.fail(ev.id, "missing_required_parameter", "audio", "Missing required parameter: 'audio'.")
	}
	b, err := base64.StdEncoding.DecodeString(*e.Audio)
	if err != nil {
		return s.fail(ev.id, "invalid_value", "audio", "Invalid 'audio': the value must be base64-encoded audio bytes.")
	}
	return s.feedAudio(b)
}

// base64Len is the decoded size of standard base64 text.
func base64Len(s string) (int, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	return len(b), err
}

// audioTokens is the input audio tokens of n bytes in the input format.
func (s *rtSession) audioTokens(n int) int {
	per := s.bytesPer100ms("input")
	return (n + per - 1) / per
}

// audioCommit turns the buffer into a user audio item: "This event will
// produce an error if the input audio buffer is empty" — less than 100 ms,
// input_audio_buffer_commit_empty "Error committing input audio buffer:
// buffer too small. Expected at least 100ms of audio, but buffer only has
// 0.00ms of audio." It works with turn detection on too; committed during
// speech, the item takes the id speech_started announced and the VAD
// starts over (no speech_stopped for that turn).
func (s *rtSession) audioCommit(ev rtEvent) *rtEnd {
	per := s.bytesPer100ms("input")
	if s.audioBuf < per {
		return s.fail(ev.id, "input_audio_buffer_commit_empty", "", fmt.Sprintf(
			"Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has %.2fms of audio.",
			float64(s.audioBuf)*100/float64(per)))
	}
	id := s.audio.speechItem
	if !s.audio.speech {
		id = s.c.newID("item_")
	}
	return s.commitAudio(id)
}

// commitAudio turns the buffer into the user audio item id and announces
// it: input_audio_buffer.committed, conversation.item.added and
// conversation.item.done. The client's input_audio_buffer.commit and the
// server VAD both end here.
func (s *rtSession) commitAudio(id string) *rtEnd {
	it := &rtItem{id: id, role: "user", audioTokens: s.audioTokens(s.audioBuf)}
	it.obj = map[string]any{"id": it.id, "type": "message", "status": "completed", "role": "user",
		"content": []any{map[string]any{"type": "input_audio", "transcript": nil}}}
	s.emptyAudioBuffer()
	prev := s.lastItemID()
	s.items = append(s.items, it)
	if end := s.send(s.event("input_audio_buffer.committed", "previous_item_id", prev, "item_id", it.id)); end != nil {
		return end
	}
	return s.announce(it, prev)
}

// announce sends conversation.item.added and conversation.item.done for an
// item the client added (the GA pair; the beta sent conversation.item.created).
func (s *rtSession) announce(it *rtItem, prev any) *rtEnd {
	if end := s.send(s.event("conversation.item.added", "previous_item_id", prev, "item", it.obj)); end != nil {
		return end
	}
	return s.send(s.event("conversation.item.done", "previous_item_id", prev, "item", it.obj))
}

func (s *rtSession) lastItemID() any {
	if len(s.items) == 0 {
		return nil
	}
	return s.items[len(s.items)-1].id
}

func (s *rtSession) findItem(id string) int {
	return slices.IndexFunc(s.items, func(it *rtItem) bool { return it.id == id })
}

// itemCreate adds an item: appended, or after previous_item_id ("root":
// first); "If the ID cannot be found, an error will be returned and the item
// will not be added."
func (s *rtSession) itemCreate(ev rtEvent) *rtEnd {
	var e struct {
		Item           json.RawMessage `json:"item"`
		PreviousItemID *string         `json:"previous_item_id"`
	}
	if end, ok := s.decode(ev, &e); !ok {
		return end
	}
	if len(e.Item) == 0 || string(e.Item) == "null" {
		return s.fail(ev.id, "missing_required_parameter", "item", "Missing required parameter: 'item'.")
	}
	it, end := s.parseItem(ev.id, "item", e.Item)
	if it == nil {
		return end
	}
	if s.findItem(it.id) >= 0 {
		return s.fail(ev.id, "invalid_value", "item.id", fmt.Sprintf("Item with id '%s' already exists.", it.id))
	}
	at := len(s.items)
	if e.PreviousItemID != nil {
		switch p := *e.PreviousItemID; {
		case p == "root":
			at = 0
		case s.findItem(p) >= 0:
			at = s.findItem(p) + 1
		default:
			return s.fail(ev.id, "invalid_value", "previous_item_id",
				fmt.Sprintf("Invalid 'previous_item_id': no item with id '%s' in the conversation.", p))
		}
	}
	var prev any
	if at > 0 {
		prev = s.items[at-1].id
	}
	s.items = slices.Insert(s.items, at, it)
	return s.announce(it, prev)
}

// parseItem reads a ConversationItem (message, function_call,
// function_call_output; MCP items are echoed and count nothing) and counts
// its tokens. Audio bytes are not echoed ("except for audio data").
func (s *rtSession) parseItem(evID, param string, raw json.RawMessage) (*rtItem, *rtEnd) {
	var obj map[string]any
	var in struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Role    string `json:"role"`
		Content []struct {
			Type       string  `json:"type"`
			Text       string  `json:"text"`
			Audio      *string `json:"audio"`
			Transcript *string `json:"transcript"`
		} `json:"content"`
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
		Output    string `json:"output"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, s.fail(evID, "invalid_type", param, fmt.Sprintf("Invalid type for '%s': expected an object.", param))
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, s.fail(evID, "invalid_type", param, fmt.Sprintf("Invalid '%s': %v", param, err))
	}
	if in.Type == "" {
		return nil, s.fail(evID, "missing_required_parameter", param+".type", fmt.Sprintf("Missing required parameter: '%s.type'.", param))
	}
	if len(in.ID) > 32 {
		return nil, s.fail(evID, "string_above_max_length", param+".id",
			fmt.Sprintf("Invalid '%s.id': string too long. Expected a string with maximum length 32, but got a string with length %d instead.", param, len(in.ID)))
	}
	it := &rtItem{id: in.ID, role: in.Role}
	if it.id == "" {
		it.id = s.c.newID("item_")
	}
	obj["id"] = it.id
	obj["object"] = "realtime.item"
	if _, ok := obj["status"]; !ok {
		obj["status"] = "completed"
	}
	var text, heard strings.Builder // text parts; what the mock answers (text and transcripts)
	switch in.Type {
	case "message":
		if !slices.Contains([]string{"user", "system", "assistant"}, in.Role) {
			return nil, s.fail(evID, "invalid_value", param+".role", fmt.Sprintf(
				"Invalid value: '%s'. Supported values are: 'user', 'assistant', and 'system'.", in.Role))
		}
		parts, _ := obj["content"].([]any)
		for i, p := range in.Content {
			switch p.Type {
			case "input_text", "output_text", "text":
				text.WriteString(p.Text)
				heard.WriteString(p.Text)
			case "input_audio", "output_audio", "audio":
				if p.Audio != nil {
					n, err := base64Len(*p.Audio)
					if err != nil {
						return nil, s.fail(evID, "invalid_value", fmt.Sprintf("%s.content[%d].audio", param, i),
							"Invalid 'audio': the value must be base64-encoded audio bytes.")
					}
					it.audioTokens += s.audioTokens(n)
				}
				if p.Transcript != nil {
					// "not sent to the model, but will be attached to the
					// message item for reference": no input tokens, but
					// the mock "hears" it.
					heard.WriteString(*p.Transcript)
				}
				if part, ok := parts[i].(map[string]any); ok {
					delete(part, "audio")
					if _, ok := part["transcript"]; !ok {
						part["transcript"] = nil
					}
				}
			}
		}
		it.text = heard.String()
		if text.Len() > 0 {
			it.textTokens = PromptTokens(text.String())
		}
	case "function_call":
		it.textTokens = PromptTokens(in.Name, in.Arguments)
	case "function_call_output":
		it.textTokens = PromptTokens(in.Output)
	}
	it.obj = obj
	return it, nil
}

func (s *rtSession) itemNotFound(evID, param, id string) *rtEnd {
	return s.fail(evID, "invalid_value", param, fmt.Sprintf("Item with item_id not found: %s", id))
}

// itemDelete answers conversation.item.deleted.
func (s *rtSession) itemDelete(ev rtEvent) *rtEnd {
	var e struct {
		ItemID string `json:"item_id"`
	}
	if end, ok := s.decode(ev, &e); !ok {
		return end
	}
	i := s.findItem(e.ItemID)
	if i < 0 {
		return s.itemNotFound(ev.id, "item_id", e.ItemID)
	}
	s.items = slices.Delete(s.items, i, i+1)
	return s.send(s.event("conversation.item.deleted", "item_id", e.ItemID))
}

// itemRetrieve answers conversation.item.retrieved.
func (s *rtSession) itemRetrieve(ev rtEvent) *rtEnd {
	var e struct {
		ItemID string `json:"item_id"`
	}
	if end, ok := s.decode(ev, &e); !ok {
		return end
	}
	i := s.findItem(e.ItemID)
	if i < 0 {
		return s.itemNotFound(ev.id, "item_id", e.ItemID)
	}
	return s.send(s.event("conversation.item.retrieved", "item", s.items[i].obj))
}

// itemTruncate cuts an assistant audio item at audio_end_ms and answers
// conversation.item.truncated; the audio after the cut is no longer input.
func (s *rtSession) itemTruncate(ev rtEvent) *rtEnd {
	var e struct {
		ItemID       string `json:"item_id"`
		ContentIndex int    `json:"content_index"`
		AudioEndMs   *int   `json:"audio_end_ms"`
	}
	if end, ok := s.decode(ev, &e); !ok {
		return end
	}
	i := s.findItem(e.ItemID)
	switch {
	case i < 0:
		return s.itemNotFound(ev.id, "item_id", e.ItemID)
	case s.items[i].role != "assistant":
		return s.fail(ev.id, "invalid_value", "item_id", "Only assistant message items can be truncated.")
	case e.AudioEndMs == nil:
		return s.fail(ev.id, "missing_required_parameter", "audio_end_ms", "Missing required parameter: 'audio_end_ms'.")
	case *e.AudioEndMs < 0:
		return s.fail(ev.id, "integer_below_min_value", "audio_end_ms",
			fmt.Sprintf("Invalid 'audio_end_ms': integer below minimum value. Expected a value >= 0, but got %d instead.", *e.AudioEndMs))
	}
	it := s.items[i]
	it.audioTokens = min(it.audioTokens, (*e.AudioEndMs+49)/50)
	return s.send(s.event("conversation.item.truncated", "item_id", e.ItemID,
		"content_index", e.ContentIndex, "audio_end_ms", *e.AudioEndMs))
}

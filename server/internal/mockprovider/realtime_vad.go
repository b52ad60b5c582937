package mockprovider

import (
	"fmt"
	"math"
	"slices"
)

// The server VAD (https://platform.openai.com/docs/guides/realtime-vad):
// with session.audio.input.turn_detection set, "the audio is chunked
// automatically and the Realtime API sends events to indicate when the user
// has started or stopped speaking". The mock decides deterministically, in
// audio time (the bytes appended), never wall-clock time; see the doc
// comment of realtime.go for the rules and the event sequences.

// Input audio time is counted in ticks of 1/48,000 s: a byte of audio/pcm
// (24 kHz, 16-bit) is 1 tick, a byte of G.711 (8 kHz, 8-bit) 6 ticks, so
// the format may change during a session and the clock stays exact.
const (
	rtTicksPerMs     = 48
	rtTicksPer100ms  = 100 * rtTicksPerMs
	rtVADFrameMs     = 100
	rtVADSilenceMs   = 500 // silence_duration_ms: "Defaults to 500ms"
	rtVADPaddingMs   = 300 // prefix_padding_ms: "Defaults to 300ms"
	rtVADThreshold   = 0.5 // threshold: "this defaults to 0.5"
	rtVADMaxDuration = math.MaxInt32
)

// rtAudioIn is the input audio timeline of a session and the VAD's state.
type rtAudioIn struct {
	ticks       int    // audio written this session ("from the start of all audio written to the buffer during the session")
	bufStart    int    // ticks when the buffer was last emptied (commit or clear)
	frameLen    int    // bytes of the current, incomplete 100 ms frame of the buffer
	frameVoiced bool   // it has a non-silent sample
	speech      bool   // between speech_started and speech_stopped
	speechItem  string // the item_id speech_started announced
	silentMs    int    // silence since the last speech frame
}

// rtVAD is the effective turn_detection of the session.
type rtVAD struct {
	silenceMs, paddingMs int
	create, interrupt    bool
}

// checkTurnDetection validates session.audio.input.turn_detection: null
// (off), or an object of type server_vad or semantic_vad with members of
// the right types; a refusal is the error event of any other bad session
// field (invalid_type, invalid_value, unknown_parameter, …). Its members
// are those of RealtimeAudioInputTurnDetection (ServerVad and
// SemanticVad); the server_vad-only ones are "Used only for `server_vad`
// mode": the mock takes them in either mode, and semantic_vad ignores them.
func checkTurnDetection(v any) *rtRefusal {
	const param = "session.audio.input.turn_detection"
	if v == nil {
		return nil
	}
	td, ok := v.(map[string]any)
	if !ok {
		return &rtRefusal{"invalid_type", param, "Invalid type for '" + param + "': expected an object or null."}
	}
	switch t, ok := td["type"].(string); {
	case td["type"] == nil:
		return &rtRefusal{"missing_required_parameter", param + ".type", "Missing required parameter: '" + param + ".type'."}
	case !ok:
		return &rtRefusal{"invalid_type", param + ".type", "Invalid type for '" + param + ".type': expected a string."}
	case t != "server_vad" && t != "semantic_vad":
		return &rtRefusal{"invalid_value", param + ".type", fmt.Sprintf(
			"Invalid value: '%s'. Supported values are: 'server_vad' and 'semantic_vad'.", t)}
	}
	keys := make([]string, 0, len(td))
	for k := range td {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p, v := param+"."+k, td[k]
		switch k {
		case "type":
		case "threshold":
			// "Activation threshold for VAD (0.0 to 1.0)"
			f, ok := v.(float64)
			switch {
			case !ok:
				return &rtRefusal{"invalid_type", p, "Invalid type for '" + p + "': expected a number."}
			case f < 0:
				return &rtRefusal{"decimal_below_min_value", p, fmt.Sprintf(
					"Invalid '%s': decimal below minimum value. Expected a value >= 0, but got %v instead.", p, f)}
			case f > 1:
				return &rtRefusal{"decimal_above_max_value", p, fmt.Sprintf(
					"Invalid '%s': decimal above maximum value. Expected a value <= 1, but got %v instead.", p, f)}
			}
		case "prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms":
			if v == nil && k == "idle_timeout_ms" { // "idle_timeout_ms?: number | null"
				continue
			}
			if r := checkMs(p, v); r != nil {
				return r
			}
		case "create_response", "interrupt_response":
			if _, ok := v.(bool); !ok {
				return &rtRefusal{"invalid_type", p, "Invalid type for '" + p + "': expected a boolean."}
			}
		case "eagerness":
			if e, _ := v.(string); !slices.Contains([]string{"low", "medium", "high", "auto"}, e) {
				return &rtRefusal{"invalid_value", p, fmt.Sprintf(
					"Invalid value: '%v'. Supported values are: 'low', 'medium', 'high', and 'auto'.", v)}
			}
		default:
			return &rtRefusal{"unknown_parameter", p, fmt.Sprintf("Unknown parameter: '%s'.", p)}
		}
	}
	return nil
}

// checkMs validates a duration in milliseconds: a non-negative integer.
func checkMs(p string, v any) *rtRefusal {
	f, ok := v.(float64)
	switch {
	case !ok || f != math.Trunc(f):
		return &rtRefusal{"invalid_type", p, "Invalid type for '" + p + "': expected an integer."}
	case f < 0:
		return &rtRefusal{"integer_below_min_value", p, fmt.Sprintf(
			"Invalid '%s': integer below minimum value. Expected a value >= 0, but got %v instead.", p, f)}
	case f > rtVADMaxDuration:
		return &rtRefusal{"integer_above_max_value", p, fmt.Sprintf(
			"Invalid '%s': integer above maximum value. Expected a value <= %d, but got %v instead.", p, rtVADMaxDuration, f)}
	}
	return nil
}

// normalTurnDetection is a valid turn_detection as the session stores and
// echoes it: the members the client set over the defaults of its type, as
// the real session objects show every member (the session.created example
// of the API reference: {"type":"server_vad","threshold":0.5,
// "prefix_padding_ms":300,"silence_duration_ms":200,"idle_timeout_ms":null,
// "create_response":true,"interrupt_response":true}). The mock's
// silence_duration_ms default is the documented one, 500.
func normalTurnDetection(v any) any {
	td, ok := v.(map[string]any)
	if !ok {
		return v // null
	}
	out := map[string]any{"create_response": true, "interrupt_response": true}
	if td["type"] == "semantic_vad" {
		// "`auto` is the default and is equivalent to `medium`"
		out["eagerness"] = "auto"
	} else {
		out["threshold"] = rtVADThreshold
		out["prefix_padding_ms"] = rtVADPaddingMs
		out["silence_duration_ms"] = rtVADSilenceMs
		out["idle_timeout_ms"] = nil
	}
	for k, v := range td {
		out[k] = v
	}
	return out
}

// vad is the session's turn detection, nil when off.
func (s *rtSession) vad() *rtVAD {
	td, ok := s.audioConfig("input")["turn_detection"].(map[string]any)
	if !ok {
		return nil
	}
	v := &rtVAD{silenceMs: rtVADSilenceMs, paddingMs: rtVADPaddingMs, create: true, interrupt: true}
	if td["type"] == "server_vad" {
		// semantic_vad "dynamically sets a timeout" from what the user said
		// (at most 8 s, 4 s or 2 s by eagerness); the mock hears nothing,
		// so it waits the server_vad default.
		v.silenceMs = msOf(td["silence_duration_ms"], rtVADSilenceMs)
		v.paddingMs = msOf(td["prefix_padding_ms"], rtVADPaddingMs)
	}
	if b, ok := td["create_response"].(bool); ok {
		v.create = b
	}
	if b, ok := td["interrupt_response"].(bool); ok {
		v.interrupt = b
	}
	return v
}

func msOf(v any, def int) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case int:
		return n
	}
	return def
}

// vadReconfigured follows a session.update: turning turn detection off
// forgets a turn in progress, and a new input format (per100 was the size
// of 100 ms before) starts a new frame.
func (s *rtSession) vadReconfigured(per100 int) {
	if s.vad() == nil {
		s.audio.speech, s.audio.speechItem, s.audio.silentMs = false, "", 0
	}
	if s.bytesPer100ms("input") != per100 {
		s.audio.frameLen, s.audio.frameVoiced = 0, false
	}
}

// emptyAudioBuffer empties the input buffer (commit, clear): the next
// frame starts with the next byte and the VAD waits for new speech.
func (s *rtSession) emptyAudioBuffer() {
	s.audioBuf = 0
	a := &s.audio
	a.bufStart = a.ticks
	a.frameLen, a.frameVoiced = 0, false
	a.speech, a.speechItem, a.silentMs = false, "", 0
}

// silenceBytes are the byte values of silence in an input format. PCM
// silence is a zero sample; G.711 sends 0 as 0xFF (or its negative twin
// 0x7F) in μ-law and 0xD5 (or 0x55, the smallest magnitudes: A-law has no
// exact zero) in A-law, the codes "ideal channel noise" toggles between
// (ITU-T G.711 Tables 1a and 2a; https://serverfault.com/questions/771924).
func silenceBytes(format string) []byte {
	switch format {
	case "audio/pcmu":
		return []byte{0xFF, 0x7F}
	case "audio/pcma":
		return []byte{0xD5, 0x55}
	}
	return []byte{0}
}

// voiced reports whether b holds a non-silent byte. A 16-bit PCM sample is
// non-zero exactly when one of its bytes is.
func voiced(b, silence []byte) bool {
	for _, x := range b {
		if !slices.Contains(silence, x) {
			return true
		}
	}
	return false
}

// feedAudio appends b to the input buffer, 100 ms frame by 100 ms frame,
// and runs the VAD on each frame it completes, so a turn ends (and the
// buffer is committed) at the exact frame where it does; the bytes after it
// start the next buffer.
func (s *rtSession) feedAudio(b []byte) *rtEnd {
	per := s.bytesPer100ms("input")
	tick := rtTicksPer100ms / per
	f, _ := s.audioConfig("input")["format"].(map[string]any)
	format, _ := f["type"].(string)
	silence := silenceBytes(format)
	a := &s.audio
	for len(b) > 0 {
		if a.frameLen >= per {
			a.frameLen, a.frameVoiced = 0, false
		}
		n := min(per-a.frameLen, len(b))
		if !a.frameVoiced {
			a.frameVoiced = voiced(b[:n], silence)
		}
		b = b[n:]
		a.frameLen += n
		a.ticks += n * tick
		s.audioBuf += n
		if a.frameLen < per {
			break
		}
		speech := a.frameVoiced
		a.frameLen, a.frameVoiced = 0, false
		if end := s.vadFrame(speech); end != nil {
			return end
		}
	}
	return nil
}

// vadFrame runs the VAD on the 100 ms frame that just ended: a frame with
// a non-silent sample is speech. The real VAD compares the audio's energy
// with threshold; the mock's stand-in, "any non-silent sample", keeps the
// tests exact.
func (s *rtSession) vadFrame(speech bool) *rtEnd {
	v := s.vad()
	if v == nil {
		return nil
	}
	a := &s.audio
	endMs := a.ticks / rtTicksPerMs
	if speech {
		a.silentMs = 0
		if a.speech {
			return nil
		}
		// audio_start_ms "includes the prefix_padding_ms configured in the
		// Session" (never before the buffer's first byte); item_id is "the
		// ID of the user message item that will be created when speech
		// stops" (InputAudioBufferSpeechStartedEvent).
		a.speech, a.speechItem = true, s.c.newID("item_")
		start := max(a.bufStart/rtTicksPerMs, endMs-rtVADFrameMs-v.paddingMs)
		if end := s.send(s.event("input_audio_buffer.speech_started",
			"audio_start_ms", start, "item_id", a.speechItem)); end != nil {
			return end
		}
		if v.interrupt {
			return s.interrupt()
		}
		return nil
	}
	if !a.speech {
		return nil // silence alone is no turn
	}
	a.silentMs += rtVADFrameMs
	if a.silentMs < v.silenceMs {
		return nil
	}
	// audio_end_ms "includes the min_silence_duration_ms configured in the
	// Session" (InputAudioBufferSpeechStoppedEvent); then the buffer is
	// committed "automatically in server VAD mode"
	// (InputAudioBufferCommittedEvent) and, with create_response, answered
	// ("automatically generate a response when a VAD stop event occurs").
	item := a.speechItem
	if end := s.send(s.event("input_audio_buffer.speech_stopped", "audio_end_ms", endMs, "item_id", item)); end != nil {
		return end
	}
	if end := s.commitAudio(item); end != nil {
		return end
	}
	if v.create {
		// The client's response.create without parameters: "If
		// interrupt_response is set to false this may fail to create a
		// response if the model is already responding" — the error event
		// conversation_already_has_active_response, event_id null.
		return s.startResponse("", &rtResponseParams{})
	}
	return nil
}

// interrupt cancels the response writing to the default conversation, as
// interrupt_response asks: "automatically interrupt (cancel) any ongoing
// response with output to the default conversation (i.e. conversation of
// auto) when a VAD start event occurs". The active one sends what is left
// of it at once (its done events, response.done "cancelled" with reason
// turn_detected, rate_limits.updated), so it is over before the turn that
// interrupted it is committed.
func (s *rtSession) interrupt() *rtEnd {
	for _, r := range append([]*rtResponse{s.active}, s.queue...) {
		if r == nil || !r.conv || r.cancelled || r.finished {
			continue
		}
		s.cancelResponse(r, "turn_detected")
		if r != s.active {
			return nil // queued: it reports its cancellation when its turn comes
		}
		for s.active == r {
			if len(r.out) == 0 {
				if !r.fill() {
					s.finishResponse()
					break
				}
				continue
			}
			st := r.out[0]
			r.out = r.out[1:]
			if end := s.emit(r, st); end != nil {
				return end
			}
		}
		return nil
	}
	return nil
}

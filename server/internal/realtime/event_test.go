package realtime

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEventTypeIsReadFromAPrefixOnlyWhenItSettlesIt(t *testing.T) {
	audio := `"` + strings.Repeat("A", 10000) + `"`
	cases := []struct {
		name, msg    string
		cut          int // prefix length; 0: the whole message
		typ          string
		known, whole bool
	}{
		{"type first", `{"type":"input_audio_buffer.append","audio":` + audio + `}`, 64, "input_audio_buffer.append", true, false},
		{"type after a short field", `{"event_id":"e1","type":"session.update","session":{}}`, 0, "session.update", true, true},
		{"type after a cut value", `{"audio":` + audio + `,"type":"session.update"}`, 64, "", false, false},
		{"nested type does not count", `{"session":{"type":"realtime"},"type":"session.update"}`, 0, "session.update", true, true},
		{"nested type only", `{"session":{"type":"realtime"}}`, 0, "", true, true},
		{"not an object", `["type","x"]`, 0, "", true, true},
		{"type not a string", `{"type":7}`, 0, "", true, true},
		{"escaped key", `{"typ\u0065":"session.update"}`, 0, "session.update", true, true},
		{"cut inside the type value", `{"type":"session.update"}`, 12, "", false, false},
	}
	for _, tc := range cases {
		prefix, whole := []byte(tc.msg), true
		if tc.cut > 0 {
			prefix, whole = prefix[:tc.cut], false
		}
		typ, known := eventType(prefix, whole)
		if typ != tc.typ || known != tc.known {
			t.Errorf("%s: (%q, %v), want (%q, %v)", tc.name, typ, known, tc.typ, tc.known)
		}
	}
}

// ReadClientEvent agrees with a decode into a map, which like JSON.parse
// keeps exact keys and the last of repeated ones.
func FuzzReadClientEventAgreesWithAMapDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"session.update","session":{"model":"a"}}`, `{"type":"x","type":"session.update"}`,
		`{"Type":"x","type":"y"}`, `{"session":{"model":"a","model":"b"},"session":{}}`, `{"typ\u0065":"z"}`, `[1]`, `{`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		ev, err := ReadClientEvent([]byte(msg))
		var m map[string]any
		if json.Unmarshal([]byte(msg), &m) != nil {
			return // not an object (or invalid): nothing to compare
		}
		if err != nil {
			t.Fatalf("a valid object was refused: %v", err)
		}
		want, _ := m["type"].(string)
		if ev.Type != want {
			t.Fatalf("type %q, a map decode says %q", ev.Type, want)
		}
		session, _ := m["session"].(map[string]any)
		if model, ok := session["model"].(string); ok && (ev.Model == nil || *ev.Model != model) {
			t.Fatalf("model %v, a map decode says %q", ev.Model, model)
		}
		if _, named := session["model"]; !named && ev.Model != nil {
			t.Fatalf("model %q where a map decode has none", *ev.Model)
		}
	})
}

func TestClientEventsAreReadAsTheProviderReadsThem(t *testing.T) {
	cases := []struct {
		name, msg string
		typ       string
		model     string // "-" for none
	}{
		{"plain", `{"type":"session.update","session":{"model":"gpt-realtime"}}`, "session.update", "gpt-realtime"},
		{"last type wins", `{"type":"input_audio_buffer.append","type":"session.update","session":{"model":"m2"}}`, "session.update", "m2"},
		{"last model wins", `{"type":"session.update","session":{"model":"ok","model":"forbidden"}}`, "session.update", "forbidden"},
		{"last session wins", `{"type":"session.update","session":{"model":"forbidden"},"session":{"instructions":"x"}}`, "session.update", "-"},
		{"case matters", `{"type":"session.update","Type":"x","session":{"Model":"forbidden","model":"ok"}}`, "session.update", "ok"},
		{"escaped key", `{"typ\u0065":"session.update","session":{"mod\u0065l":"forbidden"}}`, "session.update", "forbidden"},
		{"non-string model", `{"type":"session.update","session":{"model":7}}`, "session.update", "\x00not a string"},
	}
	for _, tc := range cases {
		ev, err := ReadClientEvent([]byte(tc.msg))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		model := "-"
		if ev.Model != nil {
			model = *ev.Model
		}
		if ev.Type != tc.typ || model != tc.model {
			t.Errorf("%s: (%q, %q), want (%q, %q)", tc.name, ev.Type, model, tc.typ, tc.model)
		}
	}
	if _, err := ReadClientEvent([]byte(`{"type":"session.update",`)); err == nil {
		t.Error("invalid JSON was read")
	}
}

package mockprovider

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestResponsesJSONShapeAndUsage(t *testing.T) {
	_, srv := newServer(t, Options{})
	code, m := postJSON(t, srv.URL+"/v1/responses",
		`{"model":"gpt-4.1","instructions":"Be brief.","input":"`+userMsg+`"}`)
	want := CompletionPrefix + userMsg
	if code != 200 || str(t, m, "object") != "response" || str(t, m, "status") != "completed" ||
		!strings.HasPrefix(str(t, m, "id"), "resp_") || str(t, m, "instructions") != "Be brief." {
		t.Fatalf("%d %v", code, m)
	}
	if str(t, m, "output", 0, "type") != "message" || str(t, m, "output", 0, "content", 0, "text") != want {
		t.Errorf("output = %v", m["output"])
	}
	in, out := PromptTokens(userMsg, "Be brief."), len(strings.Split(want, " "))
	if num(t, m, "usage", "input_tokens") != in || num(t, m, "usage", "output_tokens") != out ||
		num(t, m, "usage", "total_tokens") != in+out || num(t, m, "usage", "input_tokens_details", "cached_tokens") != 0 ||
		num(t, m, "usage", "output_tokens_details", "reasoning_tokens") != 0 {
		t.Errorf("usage = %v", m["usage"])
	}
}

func TestResponsesStreamEventSequence(t *testing.T) {
	_, srv := newServer(t, Options{})
	resp := post(t, srv.URL+"/v1/responses", `{"model":"gpt-4.1","input":[{"role":"user","content":"hi"}],"stream":true}`,
		"x-mock-chunks", "3")
	evs, err := readSSE(t, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
		"response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
		"response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"}
	var names []string
	var text strings.Builder
	for i, ev := range evs {
		names = append(names, ev.name)
		m := dataEvents(t, "data: "+ev.data)[0]
		if str(t, m, "type") != ev.name || num(t, m, "sequence_number") != i {
			t.Errorf("event %d: %v", i, m)
		}
		if ev.name == "response.output_text.delta" {
			text.WriteString(str(t, m, "delta"))
		}
	}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v\nwant %v", names, want)
	}
	final := dataEvents(t, "data: "+evs[len(evs)-1].data)[0]
	if text.String() != "Hello from mock:" || num(t, final, "response", "usage", "output_tokens") != 3 ||
		num(t, final, "response", "usage", "input_tokens") != PromptTokens("hi") {
		t.Errorf("text %q, final %v", text.String(), final)
	}
}

func TestResponsesMaxOutputTokensMinimumIsSixteen(t *testing.T) {
	_, srv := newServer(t, Options{})
	resp, raw := send(t, http.DefaultClient, srv.URL+"/v1/responses", `{"model":"gpt-4.1","input":"x","max_output_tokens":10}`)
	want := `{"error":{"message":"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 10 instead.","type":"invalid_request_error","param":"max_output_tokens","code":"integer_below_min_value"}}`
	if resp.StatusCode != 400 || !sameJSON(t, raw, want) {
		t.Errorf("%d %s", resp.StatusCode, raw)
	}
}

// A cap that cuts the text makes the response incomplete, and a stream
// ends with response.incomplete.
func TestResponsesTruncatedIsIncomplete(t *testing.T) {
	_, srv := newServer(t, Options{})
	body := `{"model":"gpt-4.1","input":"x","max_output_tokens":16%s}`
	_, m := postJSON(t, srv.URL+"/v1/responses", fmt.Sprintf(body, ""), "x-mock-chunks", "40")
	if str(t, m, "status") != "incomplete" || str(t, m, "incomplete_details", "reason") != "max_output_tokens" ||
		num(t, m, "usage", "output_tokens") != 16 || str(t, m, "output", 0, "status") != "incomplete" {
		t.Errorf("response = %v", m)
	}
	resp := post(t, srv.URL+"/v1/responses", fmt.Sprintf(body, `,"stream":true`), "x-mock-chunks", "40")
	evs, err := readSSE(t, resp.Body)
	if err != nil || evs[len(evs)-1].name != "response.incomplete" {
		t.Fatalf("last event %q, %v", evs[len(evs)-1].name, err)
	}
}

// A reasoning model's output starts with a reasoning item; its reasoning
// tokens count in output_tokens and output_tokens_details.
func TestResponsesReasoningModelBillsReasoning(t *testing.T) {
	_, srv := newServer(t, Options{})
	_, m := postJSON(t, srv.URL+"/v1/responses", `{"model":"o3-mini","input":"hi"}`)
	visible := len(strings.Split(ExpectedCompletion("hi", 0, 0), " "))
	if str(t, m, "output", 0, "type") != "reasoning" || str(t, m, "output", 1, "type") != "message" ||
		num(t, m, "usage", "output_tokens") != reasoningTokens+visible ||
		num(t, m, "usage", "output_tokens_details", "reasoning_tokens") != reasoningTokens {
		t.Errorf("response = %v", m)
	}
}

// previous_response_id bills the whole stored chain as input, as OpenAI
// does; instructions are not carried over.
func TestResponsesPreviousResponseBillsTheChain(t *testing.T) {
	_, srv := newServer(t, Options{})
	_, r1 := postJSON(t, srv.URL+"/v1/responses", `{"model":"gpt-4.1","instructions":"Be very brief please.","input":"first question here"}`)
	id1 := str(t, r1, "id")
	chain := PromptTokens("first question here") + num(t, r1, "usage", "output_tokens")
	_, r2 := postJSON(t, srv.URL+"/v1/responses", `{"model":"gpt-4.1","previous_response_id":"`+id1+`","input":"second one"}`)
	if got := num(t, r2, "usage", "input_tokens"); got != chain+PromptTokens("second one") {
		t.Errorf("second input_tokens %d, want %d", got, chain+PromptTokens("second one"))
	}
	chain += PromptTokens("second one") + num(t, r2, "usage", "output_tokens")
	_, r3 := postJSON(t, srv.URL+"/v1/responses", `{"model":"gpt-4.1","previous_response_id":"`+str(t, r2, "id")+`","input":"third"}`)
	if got := num(t, r3, "usage", "input_tokens"); got != chain+PromptTokens("third") {
		t.Errorf("third input_tokens %d, want %d", got, chain+PromptTokens("third"))
	}
	if code, m := getJSON(t, srv.URL+"/v1/responses/"+id1); code != 200 || str(t, m, "id") != id1 {
		t.Errorf("GET stored: %d %v", code, m)
	}
}

func TestResponsesUnknownIDsAndStoreFalse(t *testing.T) {
	_, srv := newServer(t, Options{})
	resp, raw := send(t, http.DefaultClient, srv.URL+"/v1/responses",
		`{"model":"gpt-4.1","previous_response_id":"resp_nope","input":"x"}`)
	want := `{"error":{"message":"Previous response with id 'resp_nope' not found.","type":"invalid_request_error","param":"previous_response_id","code":"previous_response_not_found"}}`
	if resp.StatusCode != 400 || !sameJSON(t, raw, want) {
		t.Errorf("unknown previous: %d %s", resp.StatusCode, raw)
	}
	if code, m := postJSON(t, srv.URL+"/v1/responses", `{"model":"gpt-4.1","conversation":"conv_nope","input":"x"}`); code != 404 ||
		str(t, m, "error", "message") != "Conversation with id 'conv_nope' not found." {
		t.Errorf("unknown conversation: %d %v", code, m)
	}
	_, m := postJSON(t, srv.URL+"/v1/responses", `{"model":"gpt-4.1","store":false,"input":"x"}`)
	if code, e := getJSON(t, srv.URL+"/v1/responses/"+str(t, m, "id")); code != 404 || str(t, e, "error", "message") == "" {
		t.Errorf("store:false response is retrievable: %d %v", code, e)
	}
	if code, _ := postJSON(t, srv.URL+"/v1/responses", `{"model":"gpt-4.1","previous_response_id":"`+str(t, m, "id")+`","input":"x"}`); code != 400 {
		t.Errorf("chaining an unstored response: %d", code)
	}
}

// POST /_mock/stored seeds a ~50k-token context that a follow-up bills.
func TestStoredContextSeedsLargeConversation(t *testing.T) {
	_, srv := newServer(t, Options{})
	for _, id := range []string{"resp_big", "conv_big"} {
		if code, m := postJSON(t, srv.URL+"/_mock/stored", `{"id":"`+id+`","tokens":50000}`); code != 200 {
			t.Fatalf("seed %s: %d %v", id, code, m)
		}
	}
	_, r := postJSON(t, srv.URL+"/v1/responses", `{"model":"gpt-4.1","previous_response_id":"resp_big","input":"go on"}`)
	if got := num(t, r, "usage", "input_tokens"); got != 50000+PromptTokens("go on") {
		t.Errorf("previous_response_id: input_tokens %d", got)
	}
	_, c1 := postJSON(t, srv.URL+"/v1/responses", `{"model":"gpt-4.1","conversation":"conv_big","input":"go on"}`)
	if got := num(t, c1, "usage", "input_tokens"); got != 50000+PromptTokens("go on") || str(t, c1, "conversation", "id") != "conv_big" {
		t.Errorf("conversation: %v", c1)
	}
	// The conversation keeps this turn's input and output.
	_, c2 := postJSON(t, srv.URL+"/v1/responses", `{"model":"gpt-4.1","conversation":{"id":"conv_big"},"input":"more"}`)
	want := 50000 + PromptTokens("go on") + num(t, c1, "usage", "output_tokens") + PromptTokens("more")
	if got := num(t, c2, "usage", "input_tokens"); got != want {
		t.Errorf("second turn input_tokens %d, want %d", got, want)
	}
	for _, bad := range []string{`{"id":"x_1","tokens":5}`, `{"id":"resp_1","tokens":-1}`, `{`} {
		if code, _ := postJSON(t, srv.URL+"/_mock/stored", bad); code != 400 {
			t.Errorf("%s: %d", bad, code)
		}
	}
}

package rewrite

import (
	"errors"
	"strings"
	"testing"

	"github.com/relayapi/relayapi/server/internal/endpoint"
)

func inspect(t *testing.T, r endpoint.Route, body string) Facts {
	t.Helper()
	f, err := Inspect(r, []byte(body))
	if err != nil {
		t.Fatalf("Inspect(%s): %v", body, err)
	}
	return f
}

func TestInspectReadsTheLargestCapOfTheRoute(t *testing.T) {
	cases := []struct {
		r    endpoint.Route
		body string
		want int64
	}{
		{chat, `{"messages":[],"max_tokens":300}`, 300},
		{chat, `{"max_completion_tokens":100,"max_tokens":200}`, 200},
		{responses, `{"input":"x","max_output_tokens":50.5}`, 51},
		{chat, `{"messages":[]}`, 0},
		{chat, `{"max_tokens":null}`, 0},
		{chat, `{"max_tokens":-5}`, 0},
		{chat, `{"max_tokens":"300"}`, 0},
		{chat, `{"max_tokens":1e400}`, 0},
		{messages, `{"max_tokens":1024,"max_completion_tokens":9}`, 1024},
		{gemini, `{"generationConfig":{"maxOutputTokens":77}}`, 77},
		{gemini, `{"generation_config":{"max_output_tokens":78}}`, 78},
		{gemini, `{"maxOutputTokens":79}`, 0},
		{embeddings, `{"input":"x","max_tokens":5}`, 0},
	}
	for _, c := range cases {
		if got := inspect(t, c.r, c.body).MaxTokens; got != c.want {
			t.Errorf("%s: MaxTokens %d, want %d", c.body, got, c.want)
		}
	}
}

func TestInspectMultipliesAnswersByNBestOfAndCandidateCount(t *testing.T) {
	cases := []struct {
		r    endpoint.Route
		body string
		want int64
		bad  string
	}{
		{chat, `{"messages":[]}`, 1, ""},
		{chat, `{"messages":[],"n":8}`, 8, ""},
		{chat, `{"messages":[],"n":"8"}`, 8, ""},
		{chat, `{"messages":[],"n":2.5}`, 3, ""},
		{chat, `{"messages":[],"n":0}`, 1, ""},
		{chat, `{"messages":[],"n":null}`, 1, ""},
		{chat, `{"messages":[],"n":[8]}`, 1, "n"},
		{completion, `{"prompt":"x","n":2,"best_of":5}`, 5, ""},
		{gemini, `{"generationConfig":{"candidateCount":4}}`, 4, ""},
		{gemini, `{"generation_config":{"candidate_count":3}}`, 3, ""},
		{responses, `{"input":"x","n":8}`, 1, ""},
		{images, `{"prompt":"x","n":3}`, 3, ""},
	}
	for _, c := range cases {
		f := inspect(t, c.r, c.body)
		if f.Choices != c.want || f.BadChoices != c.bad {
			t.Errorf("%s: choices %d bad %q, want %d %q", c.body, f.Choices, f.BadChoices, c.want, c.bad)
		}
	}
}

func TestInspectRefusesEveryOtherSpellingOfAMemberTheRelayReads(t *testing.T) {
	cases := []struct {
		r    endpoint.Route
		body string
		want string
	}{
		{chat, `{"model":"a","MODEL":"b"}`, "MODEL"},
		{chat, `{"model":"a","model":"b"}`, "model"},
		{chat, `{"max_tokens":50,"MAX_TOKENS":99999}`, "MAX_TOKENS"},
		{chat, `{"max_tokens":50,"maxTokens":99999}`, "maxTokens"},
		{chat, `{"stream":false,"STREAM":true}`, "STREAM"},
		{chat, `{"n":1,"N":8}`, "N"},
		{chat, `{"mo\u0064el":"a","Model":"b"}`, "Model"},
		{chat, `{"uſer":"a","ſtream":true}`, "ſtream"}, // U+017F folds to s in encoding/json
		{chat, `{"stream_options":{"include_usage":true,"INCLUDE_USAGE":false}}`, "INCLUDE_USAGE"},
		{gemini, `{"generationConfig":{},"generation_config":{}}`, "generation_config"},
		{gemini, `{"generationConfig":{"maxOutputTokens":5,"max_output_tokens":99999}}`, "max_output_tokens"},
		{gemini, `{"generationConfig":{"candidateCount":1,"CandidateCount":8}}`, "CandidateCount"},
		{responses, `{"input":"x","Previous_Response_Id":"resp_1"}`, "Previous_Response_Id"},
		{messages, `{"messages":[],"max_tokens":5,"Max_Tokens":9}`, "Max_Tokens"},
	}
	for _, c := range cases {
		if got := inspect(t, c.r, c.body).Ambiguous; got != c.want {
			t.Errorf("%s: ambiguous %q, want %q", c.body, got, c.want)
		}
	}
	for _, body := range []string{
		`{"model":"a","messages":[],"max_tokens":5,"max_completion_tokens":5,"temperature":1,"Temperature":2}`,
		`{"model":"a","user":"u","User":"v"}`,
	} {
		if got := inspect(t, chat, body).Ambiguous; got != "" {
			t.Errorf("%s: %q is not a member the relay reads", body, got)
		}
	}
}

func TestInspectNamesServerSideContext(t *testing.T) {
	cases := []struct {
		r    endpoint.Route
		body string
		want string
	}{
		{responses, `{"input":"hi","previous_response_id":"resp_1"}`, "previous_response_id"},
		{responses, `{"input":"hi","conversation":"conv_1"}`, "conversation"},
		{responses, `{"input":"hi","conversation":{"id":"conv_1"}}`, "conversation"},
		{responses, `{"prompt":{"id":"pmpt_1"}}`, "prompt"},
		{responses, `{"input":"hi","background":true}`, "background"},
		{responses, `{"input":"hi","tools":[{"type":"web_search"}]}`, "tools: web_search"},
		{responses, `{"input":"hi","tools":[{"type":"file_search","vector_store_ids":["vs_1"]}]}`, "tools: file_search"},
		{responses, `{"input":[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]}`, "file_id"},
		{responses, `{"input":[{"role":"user","content":[{"type":"input_file","file_url":"https://x/y.pdf"}]}]}`, "file_url"},
		{responses, `{"input":[{"type":"item_reference","id":"msg_1"}]}`, "item_reference"},
		{chat, `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}`, "file_id"},
		{chat, `{"messages":[],"web_search_options":{}}`, "web_search_options"},
		{chat, `{"messages":[],"data_sources":[{"type":"azure_search"}]}`, "data_sources"},
		{messages, `{"messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}}]}]}`, "source: url"},
		{messages, `{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}]}`, "source: file"},
		{messages, `{"messages":[],"tools":[{"type":"web_search_20250305","name":"web_search"}]}`, "tools: web_search_20250305"},
		{messages, `{"messages":[],"mcp_servers":[{"url":"https://x"}]}`, "mcp_servers"},
		{gemini, `{"contents":[],"cachedContent":"cachedContents/abc"}`, "cachedContent"},
		{gemini, `{"contents":[{"parts":[{"fileData":{"fileUri":"https://x"}}]}]}`, "fileData"},
		{gemini, `{"contents":[],"tools":[{"googleSearch":{}}]}`, "tools: googleSearch"},
	}
	for _, c := range cases {
		if got := inspect(t, c.r, c.body).ServerContext; got != c.want {
			t.Errorf("%s: server context %q, want %q", c.body, got, c.want)
		}
	}
	for _, c := range []struct {
		r    endpoint.Route
		body string
	}{
		{responses, `{"input":"hi","previous_response_id":null,"background":false,"tools":[{"type":"function","name":"f"}]}`},
		{chat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/a.png"}}]}],"tools":[{"type":"function"}]}`},
		{messages, `{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","data":"x"}}]}],"tools":[{"name":"f","input_schema":{}},{"type":"bash_20250124","name":"bash"}]}`},
		{gemini, `{"contents":[{"parts":[{"text":"x"},{"inlineData":{"mimeType":"image/png","data":"x"}}]}],"tools":[{"functionDeclarations":[]}]}`},
	} {
		if got := inspect(t, c.r, c.body).ServerContext; got != "" {
			t.Errorf("%s: server context %q, want none", c.body, got)
		}
	}
}

func TestInspectTreatsBodiesTooDeepToCheckAsServerSideContext(t *testing.T) {
	deep := strings.Repeat(`{"a":[`, 20) + `1` + strings.Repeat(`]}`, 20)
	body := `{"input":[` + deep + `]}`
	if got := inspect(t, responses, body).ServerContext; got == "" {
		t.Error("a body nested past the walk depth passed unchecked")
	}
}

func TestInspectNotesTheClientsOwnIncludeUsage(t *testing.T) {
	if !inspect(t, chat, `{"stream":true,"stream_options":{"include_usage":true}}`).IncludeUsage {
		t.Error("include_usage true not seen")
	}
	if inspect(t, chat, `{"stream":true,"stream_options":{"include_usage":false}}`).IncludeUsage {
		t.Error("include_usage false seen as true")
	}
}

func TestInspectEstimatesEveryMemberThatMayReachThePrompt(t *testing.T) {
	schema := strings.Repeat("x", 2000)
	with := inspect(t, chat, `{"messages":[],"response_format":{"type":"json_schema","json_schema":{"schema":"`+schema+`"}}}`).PromptEstimate
	if with < 1000 {
		t.Errorf("a 2 KB response_format schema estimated at %d tokens", with)
	}
	g := inspect(t, gemini, `{"contents":[{"role":"user","parts":[{"text":"`+schema+`"}]}],"systemInstruction":{"parts":[{"text":"abcd"}]}}`).PromptEstimate
	if g < 1000 {
		t.Errorf("Gemini contents estimated at %d tokens", g)
	}
}

func TestInspectRefusesBodiesThatAreNotObjects(t *testing.T) {
	if _, err := Inspect(chat, []byte(`[1]`)); !errors.Is(err, ErrNotObject) {
		t.Errorf("got %v", err)
	}
}

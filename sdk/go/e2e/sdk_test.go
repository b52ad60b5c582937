package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	relayapi "github.com/relayapi/relayapi/sdk/go"
)

// The mock answers "Hello from mock: " + the last user message
// (server/internal/mockprovider).
const mockPrefix = "Hello from mock: "

func chatParams(text string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)},
	}
}

func openaiClient(baseURL string) openai.Client {
	return openai.NewClient(option.WithBaseURL(baseURL), option.WithAPIKey("unused"), option.WithMaxRetries(0))
}

func TestOpenAIGoChatsAndStreamsThroughTheRelayOnAGoMintedToken(t *testing.T) {
	e := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	relay, err := relayapi.Load(e.raiPath, relayapi.WithAdminKey(adminKey))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := relay.CreateToken(relayapi.TokenRequest{
		Provider: "openai", APIKey: "sk-real-go-sdk-e2e-000000", MaxCalls: 3,
		Models: []string{"gpt-4o-mini"}, Subject: "go-user", ExpiresIn: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	baseURL, err := relay.BaseURL(tok.Value, relayapi.OpenAI)
	if err != nil {
		t.Fatal(err)
	}
	client := openaiClient(baseURL)

	answer, err := client.Chat.Completions.New(ctx, chatParams("hi from go"))
	if err != nil {
		t.Fatal(err)
	}
	if got := answer.Choices[0].Message.Content; got != mockPrefix+"hi from go" {
		t.Fatalf("answer %q", got)
	}

	stream := client.Chat.Completions.NewStreaming(ctx, chatParams("a stream"))
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; got != mockPrefix+"a stream" || chunks < 2 {
		t.Fatalf("streamed %q in %d chunks", got, chunks)
	}

	if _, err := client.Chat.Completions.New(ctx, chatParams("third")); err != nil {
		t.Fatal(err)
	}
	_, err = client.Chat.Completions.New(ctx, chatParams("fourth"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Code != "call_limit_exceeded" {
		t.Fatalf("a fourth call on max_calls 3: %v", err)
	}

	usage, err := relay.Usage(ctx, tok.ID)
	if err != nil || usage.Calls != 3 || usage.MaxCalls == nil || *usage.MaxCalls != 3 || usage.Subject != "go-user" {
		t.Fatalf("usage %+v %v", usage, err)
	}
	page, err := relay.Tokens(ctx, "go-user", relayapi.Page{})
	if err != nil || len(page.Data) != 1 || page.Data[0].TokenID != tok.ID {
		t.Fatalf("tokens of go-user %+v %v", page, err)
	}
	if err := relay.Revoke(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = client.Chat.Completions.New(ctx, chatParams("after revoke"))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != "token_revoked" {
		t.Fatalf("a revoked token: %v", err)
	}
	// The request log is written in batches: poll until it has the calls.
	deadline := time.Now().Add(10 * time.Second)
	for {
		reqs, err := relay.Requests(ctx, tok.ID, relayapi.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs.Data) >= 4 {
			if reqs.Data[len(reqs.Data)-1].Model != "gpt-4o-mini" {
				t.Fatalf("first request %+v", reqs.Data[len(reqs.Data)-1])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the request log has %d rows of the token", len(reqs.Data))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestAnAdminCallWithTheWrongKeyIsTypedUnauthorized(t *testing.T) {
	e := start(t)
	relay, err := relayapi.Load(e.raiPath, relayapi.WithAdminKey("rak_wrong"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = relay.Usage(context.Background(), "any")
	var rerr *relayapi.Error
	if !errors.As(err, &rerr) || rerr.Code != "unauthorized" || rerr.Status != 401 {
		t.Fatalf("err %v", err)
	}
}

// The net/http example, built and run as a user would, hands out a base
// URL the official client works with.
func TestTheNetHTTPExampleHandsABrowserAWorkingBaseURL(t *testing.T) {
	e := start(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "nethttp")
	build := exec.Command("go", "build", "-o", bin, "github.com/relayapi/relayapi/sdk/go/examples/nethttp")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build the example: %v\n%s", err, out)
	}
	port := freePort(t)
	run(t, dir, "nethttp.log", []string{
		"RELAYAPI_RAI=" + e.raiPath, "OPENAI_API_KEY=sk-real-go-example-00000000", fmt.Sprintf("PORT=%d", port),
	}, bin)
	url := fmt.Sprintf("http://127.0.0.1:%d/api/ai-session", port)
	var resp *http.Response
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("X-User-Id", "alice")
		var err error
		if resp, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example does not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer resp.Body.Close()
	var session struct{ BaseURL string }
	if err := json.NewDecoder(resp.Body).Decode(&session); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v", resp.StatusCode, err)
	}
	client := openaiClient(session.BaseURL)
	answer, err := client.Chat.Completions.New(context.Background(), chatParams("from the browser"))
	if err != nil {
		t.Fatal(err)
	}
	if got := answer.Choices[0].Message.Content; got != mockPrefix+"from the browser" {
		t.Fatalf("answer %q", got)
	}
}

package rai

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const vectorsDir = "../../../testdata/vectors"

// keyFileVector is one entry of testdata/vectors/keyfiles.json, which every
// SDK reads too.
type keyFileVector struct {
	File          string   `json:"file"`
	BaseURL       string   `json:"base_url"`
	OpenAIURL     string   `json:"openai_url"`
	Warnings      []string `json:"warnings"`
	ErrorContains []string `json:"error_contains"`
}

func TestKeyFileVectorsLoadLikeEverySDKLoadsThem(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(vectorsDir, "keyfiles.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		KeyFiles []keyFileVector `json:"key_files"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.KeyFiles) < 5 {
		t.Fatalf("only %d key file vectors", len(doc.KeyFiles))
	}
	for _, v := range doc.KeyFiles {
		t.Run(v.File, func(t *testing.T) {
			f, err := Load(filepath.Join(vectorsDir, v.File))
			if len(v.ErrorContains) > 0 {
				if err == nil {
					t.Fatalf("loaded; want an error containing %q", v.ErrorContains)
				}
				for _, want := range v.ErrorContains {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q lacks %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Server.BaseURL(); got != v.BaseURL {
				t.Errorf("base URL %q, want %q", got, v.BaseURL)
			}
			if got, _ := f.Server.TokenURL("TOKEN", FlavorOpenAI); got != v.OpenAIURL {
				t.Errorf("openai URL %q, want %q", got, v.OpenAIURL)
			}
			if len(f.Warnings) != len(v.Warnings) {
				t.Fatalf("warnings %q, want %d mentioning %q", f.Warnings, len(v.Warnings), v.Warnings)
			}
			for i, w := range v.Warnings {
				if !strings.Contains(f.Warnings[i], w) {
					t.Errorf("warning %q does not name %q", f.Warnings[i], w)
				}
			}
			if _, err := f.MintKey(); err != nil {
				t.Errorf("cannot mint with it: %v", err)
			}
		})
	}
}

func TestTheExampleKeyIsRefusedInAnyCase(t *testing.T) {
	for _, key := range []string{exampleAESKey, strings.ToUpper(exampleAESKey)} {
		_, err := Parse([]byte(`{"server":{},"crypto":{"method":"aes","aes_key":"` + key + `"}}`))
		if !errors.Is(err, ErrExampleKey) {
			t.Errorf("%s…: err %v, want ErrExampleKey", key[:8], err)
		}
	}
}

func TestAPortInsideHostMustAgreeWithPort(t *testing.T) {
	const key = `"crypto":{"method":"aes","aes_key":"ede976992ef270bf2e1b1136745026ffb48b61d7e79620756239ab83511db7af"}`
	f, err := Parse([]byte(`{"server":{"host":"https://relay.example.com:8443"},` + key + `}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Server.BaseURL(); got != "https://relay.example.com:8443" {
		t.Errorf("base URL %q", got)
	}
	if _, err := Parse([]byte(`{"server":{"host":"http://relay.example.com:8443","port":8840},` + key + `}`)); err == nil {
		t.Error("host port 8443 and port 8840 both accepted")
	}
	for _, host := range []string{"ftp://relay.example.com", "http://user@relay.example.com", "http://relay.example.com?x=1", "relay.example.com/x", "http://"} {
		if _, err := Parse([]byte(`{"server":{"host":"` + host + `"},` + key + `}`)); err == nil || !strings.Contains(err.Error(), "server.host") {
			t.Errorf("host %q: err %v, want a server.host error", host, err)
		}
	}
}

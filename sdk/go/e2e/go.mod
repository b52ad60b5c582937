module github.com/relayapi/relayapi/sdk/go/e2e

go 1.26.8

// End-to-end tests of the Go SDK against the real relay binary, with the
// official openai-go client. A module of its own, so that the SDK's users
// never download openai-go through it.
require (
	github.com/openai/openai-go/v3 v3.102.0
	github.com/relayapi/relayapi/sdk/go v0.0.0
)

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	github.com/tidwall/gjson v1.20.0 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.1 // indirect
	github.com/tidwall/sjson v1.2.5 // indirect
)

replace github.com/relayapi/relayapi/sdk/go => ../

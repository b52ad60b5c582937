module github.com/relayapi/relayapi/bench

go 1.26.8

// cmd/mint mints tokens with the relay's own token and .rai packages, from
// this checkout's Go SDK module (never edited from here).
require github.com/relayapi/relayapi/sdk/go v0.0.0

// The Realtime WebSocket endpoint of cmd/benchmock and loadgen's realtime
// mode: the library (and version) the relay relays sessions with, so the
// direct baseline and the relay's two hops speak the same implementation.
// No dependencies of its own.
require github.com/coder/websocket v1.8.15

require github.com/go-jose/go-jose/v4 v4.1.9 // indirect

replace github.com/relayapi/relayapi/sdk/go => ../sdk/go

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

// cmd/fastproxy only: the "different server core" ceiling of issue 22, a
// bare proxy with no net/http in it, measured beside bareproxy and nginx.
require github.com/valyala/fasthttp v1.79.0

require (
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/molecule-man/go-brrr v1.3.1 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
)

replace github.com/relayapi/relayapi/sdk/go => ../sdk/go

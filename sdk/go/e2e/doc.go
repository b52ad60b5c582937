// Package e2e holds the Go SDK's end-to-end tests: a backend mints with the
// SDK, and the official openai-go client chats and streams through the real
// relay binary in front of the mock provider (server/cmd/mockprovider).
//
// The binaries come from $RELAYAPI_BIN and $MOCKPROVIDER_BIN, or are built
// from ../../../server.
package e2e

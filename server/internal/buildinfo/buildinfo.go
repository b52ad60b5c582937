// Package buildinfo names the release this binary was built from.
package buildinfo

import "runtime"

// Version is the RelayAPI release. Token format and API versions are
// separate and documented in docs/.
const Version = "0.1.0"

// String is the one-line version report of `relayapi version` and /health.
func String() string { return "relayapi " + Version + " (" + runtime.Version() + ")" }

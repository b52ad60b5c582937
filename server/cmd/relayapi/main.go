// Command relayapi is the RelayAPI relay and its key and token tools.
package main

import (
	"os"

	"github.com/relayapi/relayapi/server/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

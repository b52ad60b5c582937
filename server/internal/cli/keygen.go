package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
)

func newKeygen() *cobra.Command {
	var method, out, relayOut, host, basePath, keyID string
	var port int
	cmd := &cobra.Command{
		Use:   "keygen --method aes|ecc --out FILE [--relay-out FILE]",
		Short: "Generate a new .rai key file (two files for ecc: backend and relay)",
		Long: `Generate a new key.

aes: one file (--out) that both the backend and the relay load.
ecc: --out is the backend's .rai (signing private key + relay public key) and
--relay-out the relay's key file (relay private key + trusted signer public
key). --relay-out defaults to the --out name with ".relay.rai".
Existing files are never overwritten.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out is required")
			}
			server := rai.Server{Host: host, Port: port, BasePath: basePath}
			switch token.Method(method) {
			case token.MethodAES:
				f, err := rai.GenerateAES(server)
				if err != nil {
					return err
				}
				f.Crypto.KeyID = keyID
				if err := f.Write(out); err != nil {
					return fmt.Errorf("write key: %w", err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (aes, for the backend and the relay)\n", out)
				return nil
			case token.MethodECC:
				return keygenECC(cmd, server, keyID, out, relayOut)
			}
			return usagef("--method must be aes or ecc")
		},
	}
	cmd.Flags().StringVar(&method, "method", "aes", "aes (shared key) or ecc (backend signs, relay decrypts)")
	cmd.Flags().StringVar(&out, "out", "", "file to write (the backend's .rai for ecc)")
	cmd.Flags().StringVar(&relayOut, "relay-out", "", "ecc only: the relay's key file")
	cmd.Flags().StringVar(&host, "host", "127.0.0.1", "relay host written into the server section")
	cmd.Flags().IntVar(&port, "port", 8840, "relay port written into the server section")
	cmd.Flags().StringVar(&basePath, "base-path", "", "relay base path written into the server section")
	cmd.Flags().StringVar(&keyID, "key-id", "", "explicit key id (default: derived from the key)")
	return cmd
}

func keygenECC(cmd *cobra.Command, server rai.Server, keyID, out, relayOut string) error {
	if relayOut == "" {
		relayOut = strings.TrimSuffix(out, filepath.Ext(out)) + ".relay.rai"
	}
	backend, relay, err := rai.GenerateECC(server)
	if err != nil {
		return err
	}
	if keyID != "" {
		backend.Crypto.RelayPublicKey.KeyID = keyID
		relay.Crypto.RelayPrivateKey.KeyID = keyID
	}
	if err := backend.Write(out); err != nil {
		return fmt.Errorf("write backend key: %w", err)
	}
	if err := relay.Write(relayOut); err != nil {
		return fmt.Errorf("write relay key: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (ecc, backend: mints tokens)\nwrote %s (ecc, relay: serve --rai %s)\n", out, relayOut, relayOut)
	return nil
}

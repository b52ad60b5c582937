// Command mint writes N real tokens, minted from a backend .rai file with
// the relay's own token package, one per line: the many-token load of the
// soak scenario (bench/run soak). The relayapi CLI mints one token per
// process, far too slow for 100,000.
//
//	mint -rai FILE -n 100000 -out TOKENS [-jti-out JTIS] [-provider mock]
//	     [-expires-in 2h] [-max-calls 1000000000] [-sub-prefix user-]
//
// The API key sealed in every token comes from $RELAYAPI_API_KEY (as with
// `relayapi token`), never from a flag. TOKENS is written with mode 0600;
// JTIS (the token ids, one per line, same order) holds no secret. A JSON
// summary goes to stdout.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
)

// maxTokens bounds -n: a token is ~400 bytes (aes) to ~700 (ecc), so the
// file stays under a few GiB whatever is asked.
const maxTokens = 5_000_000

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	rai, out, jtiOut, provider, subPrefix string
	n, workers                            int
	expiresIn                             time.Duration
	maxCalls                              int64
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.rai, "rai", "", "backend .rai key file (aes, or the backend file of an ecc pair)")
	fs.StringVar(&o.out, "out", "", "tokens file to create, one per line (mode 0600)")
	fs.StringVar(&o.jtiOut, "jti-out", "", "optional file of the tokens' ids, one per line, same order")
	fs.StringVar(&o.provider, "provider", "mock", "provider claim")
	fs.StringVar(&o.subPrefix, "sub-prefix", "", "give token i the subject <prefix><i> (default: no subject)")
	fs.IntVar(&o.n, "n", 1000, "number of distinct tokens")
	fs.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "minting goroutines")
	fs.DurationVar(&o.expiresIn, "expires-in", 2*time.Hour, "lifetime from now")
	fs.Int64Var(&o.maxCalls, "max-calls", 1_000_000_000, "max_calls claim (0: none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "mint: unexpected argument %q\n", fs.Arg(0))
		return 2
	case o.rai == "" || o.out == "":
		fmt.Fprintln(stderr, "mint: -rai and -out are required")
		return 2
	case o.n < 1 || o.n > maxTokens:
		fmt.Fprintf(stderr, "mint: -n must be between 1 and %d\n", maxTokens)
		return 2
	case o.workers < 1 || o.expiresIn <= 0 || o.maxCalls < 0:
		fmt.Fprintln(stderr, "mint: -workers and -expires-in must be positive, -max-calls not negative")
		return 2
	}
	sum, err := mint(o, os.Getenv("RELAYAPI_API_KEY"), time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "mint:", err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(sum); err != nil {
		fmt.Fprintln(stderr, "mint:", err)
		return 1
	}
	return 0
}

// summary is what mint prints: no token, no key.
type summary struct {
	Tokens      int     `json:"tokens"`
	Method      string  `json:"method"`
	Seconds     float64 `json:"seconds"`
	BytesMean   float64 `json:"bytes_per_token_mean"`
	BytesMax    int     `json:"bytes_per_token_max"`
	ExpiresUnix int64   `json:"expires_unix"`
}

func mint(o options, apiKey string, now time.Time) (*summary, error) {
	file, err := rai.Load(o.rai)
	if err != nil {
		return nil, err
	}
	key, err := file.MintKey()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	toks, jtis := make([]string, o.n), make([]string, o.n)
	exp := now.Add(o.expiresIn).Unix()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	workers := min(o.workers, o.n)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < o.n; i += workers {
				c := &token.Claims{ID: token.NewID(), ExpiresAt: exp, IssuedAt: now.Unix(),
					Provider: o.provider, APIKey: apiKey, MaxCalls: o.maxCalls}
				if o.subPrefix != "" {
					c.Subject = o.subPrefix + strconv.Itoa(i)
				}
				tok, err := token.Encode(c, key)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("token %d: %w", i, err) })
					return
				}
				toks[i], jtis[i] = tok, c.ID
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	sum := &summary{Tokens: o.n, Method: string(key.Method()), ExpiresUnix: exp}
	total := 0
	for _, t := range toks {
		total += len(t)
		sum.BytesMax = max(sum.BytesMax, len(t))
	}
	sum.BytesMean = float64(total) / float64(o.n)
	if err := writeLines(o.out, toks, 0o600); err != nil {
		return nil, err
	}
	if o.jtiOut != "" {
		if err := writeLines(o.jtiOut, jtis, 0o644); err != nil {
			return nil, err
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	return sum, nil
}

// writeLines creates path (it must not exist: tokens are never written
// over another file) with one line per item.
func writeLines(path string, lines []string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

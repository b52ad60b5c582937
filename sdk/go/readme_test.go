package relayapi

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/relayapi/relayapi/sdk/go/rai"
)

// doctestBlock matches a ```go block right after its marker comment.
var doctestBlock = regexp.MustCompile("(?s)<!-- doctest: go -->\\s*```go\\n(.*?)```")

// The READMEs' quick starts compile and run as written: with a key file
// named default.rai in the working directory, they print a base URL.
func TestTheReadmeQuickStartsRunAsWritten(t *testing.T) {
	f, err := rai.GenerateAES(rai.Server{Host: "127.0.0.1", Port: 8840})
	if err != nil {
		t.Fatal(err)
	}
	for _, readme := range []string{"README.md", "README_CN.md"} {
		t.Run(readme, func(t *testing.T) {
			text, err := os.ReadFile(readme)
			if err != nil {
				t.Fatal(err)
			}
			blocks := doctestBlock.FindAllSubmatch(text, -1)
			if len(blocks) == 0 {
				t.Fatalf("%s has no <!-- doctest: go --> block", readme)
			}
			for _, b := range blocks {
				// Inside this module (a "_" directory: no ./... pattern
				// picks it up), so the import resolves to this checkout.
				dir, err := os.MkdirTemp(".", "_doctest")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.RemoveAll(dir) })
				if err := os.WriteFile(filepath.Join(dir, "main.go"), b[1], 0o600); err != nil {
					t.Fatal(err)
				}
				bin := filepath.Join(t.TempDir(), "quickstart")
				if out, err := exec.Command("go", "build", "-o", bin, "./"+dir).CombinedOutput(); err != nil {
					t.Fatalf("the block does not compile: %v\n%s\n%s", err, out, b[1])
				}
				work := t.TempDir()
				if err := f.Write(filepath.Join(work, "default.rai")); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(bin)
				cmd.Dir = work
				cmd.Env = append(os.Environ(), "OPENAI_API_KEY=sk-doctest-0000000000000000")
				out, err := cmd.CombinedOutput()
				if err != nil || !strings.HasPrefix(string(out), "http://127.0.0.1:8840/t/eyJ") || !strings.HasSuffix(strings.TrimSpace(string(out)), "/v1") {
					t.Fatalf("ran: %v\n%s", err, out)
				}
			}
		})
	}
}

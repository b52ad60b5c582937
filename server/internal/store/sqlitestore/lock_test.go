package sqlitestore_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
)

const childEnv = "SQLITESTORE_TEST_OPEN"

func TestASecondStoreCannotOpenTheDatabase(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		// The second relay process: report what Open said.
		s, err := sqlitestore.Open(path)
		if err == nil {
			s.Close()
		}
		fmt.Print(err)
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "relayapi.db")
	s, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const msg = "database " + "%s is in use by another relayapi process"
	_, err = sqlitestore.Open(path)
	if !errors.Is(err, sqlitestore.ErrInUse) || !strings.Contains(err.Error(), fmt.Sprintf(msg, path)) {
		t.Fatalf("second Open in this process: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestASecondStoreCannotOpenTheDatabase$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf(msg, path)) {
		t.Fatalf("Open in another process: %v %s", err, out)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlitestore.Open(path)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s.Close()
}

//go:build !unix

package sqlitestore

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// ErrInUse is returned by Open when another Store has the database open.
var ErrInUse = errors.New("in use by another relayapi process")

// lockDatabase refuses to open: without an exclusive lock the writer's
// in-memory cache could disagree with a second writer on the same file.
func lockDatabase(path string) (*os.File, error) {
	return nil, fmt.Errorf("sqlite store %s: no exclusive file lock on %s", path, runtime.GOOS)
}

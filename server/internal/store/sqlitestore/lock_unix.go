//go:build unix

package sqlitestore

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrInUse is returned by Open when another Store, in this process or
// another one, has the database open.
var ErrInUse = errors.New("in use by another relayapi process")

// lockDatabase takes an exclusive, non-blocking advisory lock on
// "<path>.lock" for the Store's life. The writer caches token state in
// memory, which is only correct while no other process writes the file.
// The kernel drops the lock when the process dies, so a crash never leaves
// a stale lock; the file itself stays (removing it would let two processes
// lock two different inodes).
func lockDatabase(path string) (*os.File, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("database %s is %w (lock file %s)", path, ErrInUse, name)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return f, nil
}

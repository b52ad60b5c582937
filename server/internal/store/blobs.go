package store

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Blobs keeps small named values every relay on the store shares: the
// ACME account key and certificates (tls.cache "store"), so relays serving
// one domain hold one certificate. Every backend implements it; it is not
// part of Store, and BlobsOf finds it through wrappers.
//
// Values are kept as they are, unencrypted: whoever can read the store can
// read them.
type Blobs interface {
	// GetBlob returns the value stored under name, or ErrBlobNotFound.
	GetBlob(ctx context.Context, name string) ([]byte, error)
	// PutBlob stores data under name, replacing any previous value. It
	// refuses a value over MaxBlobBytes and a bad name (CheckBlob).
	PutBlob(ctx context.Context, name string, data []byte) error
	// DeleteBlob removes name; removing an absent name is not an error.
	DeleteBlob(ctx context.Context, name string) error
}

// MaxBlobBytes bounds one value: a certificate chain with its key is a few
// KiB, an account key less.
const MaxBlobBytes = 1 << 20

// MaxBlobNameBytes bounds a name (a domain name is at most 253 bytes).
const MaxBlobNameBytes = 512

var (
	// ErrBlobNotFound is GetBlob's answer for a name never stored (or deleted).
	ErrBlobNotFound = errors.New("blob not found")
	// ErrBlobTooLarge is PutBlob's answer for a value over MaxBlobBytes.
	ErrBlobTooLarge = fmt.Errorf("blob larger than %d bytes", MaxBlobBytes)
)

// CheckBlobName accepts a non-empty UTF-8 name of at most MaxBlobNameBytes
// without NUL bytes.
func CheckBlobName(name string) error {
	switch {
	case name == "":
		return errors.New("blob name is empty")
	case len(name) > MaxBlobNameBytes:
		return fmt.Errorf("blob name longer than %d bytes", MaxBlobNameBytes)
	case !utf8.ValidString(name):
		return errors.New("blob name is not UTF-8")
	}
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return errors.New("blob name holds a NUL byte")
		}
	}
	return nil
}

// CheckBlob is what every PutBlob checks before writing anything.
func CheckBlob(name string, data []byte) error {
	if err := CheckBlobName(name); err != nil {
		return err
	}
	if len(data) > MaxBlobBytes {
		return ErrBlobTooLarge
	}
	return nil
}

// BlobsOf returns the Blobs of s. With store.log_driver (WithLog) they
// are the usage store's (store.driver), not the request log's.
func BlobsOf(s Store) (Blobs, bool) {
	if sp, ok := s.(*split); ok {
		return BlobsOf(sp.Store)
	}
	b, ok := s.(Blobs)
	return b, ok
}

package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// blobsOf fails the test unless s keeps blobs: every backend must, since
// tls.cache "store" may name any of them.
func blobsOf(t *testing.T, s store.Store) store.Blobs {
	t.Helper()
	b, ok := store.BlobsOf(s)
	if !ok {
		t.Fatalf("%T does not implement store.Blobs", s)
	}
	return b
}

func getBlob(t *testing.T, b store.Blobs, name string) []byte {
	t.Helper()
	data, err := b.GetBlob(ctx, name)
	if err != nil {
		t.Fatalf("GetBlob(%q): %v", name, err)
	}
	return data
}

func putBlob(t *testing.T, b store.Blobs, name string, data []byte) {
	t.Helper()
	if err := b.PutBlob(ctx, name, data); err != nil {
		t.Fatalf("PutBlob(%q, %d bytes): %v", name, len(data), err)
	}
}

func wantNoBlob(t *testing.T, b store.Blobs, name string) {
	t.Helper()
	if data, err := b.GetBlob(ctx, name); !errors.Is(err, store.ErrBlobNotFound) {
		t.Fatalf("GetBlob(%q) = %d bytes, %v; want ErrBlobNotFound", name, len(data), err)
	}
}

// blobsRoundTrip: values come back byte for byte (binary, empty), a put
// replaces, names are distinct however alike, and a delete is idempotent.
func blobsRoundTrip(t *testing.T, s store.Store) {
	b := blobsOf(t, s)
	wantNoBlob(t, b, "acme/relay.test")

	binary := []byte("-----BEGIN EC PRIVATE KEY-----\n\x00\xff\xfe\x80 not UTF-8 \x00")
	putBlob(t, b, "acme/relay.test", binary)
	if got := getBlob(t, b, "acme/relay.test"); !bytes.Equal(got, binary) {
		t.Fatalf("got %q, want %q", got, binary)
	}
	got := getBlob(t, b, "acme/relay.test")
	got[0] = 'X' // the caller owns what it got
	if again := getBlob(t, b, "acme/relay.test"); !bytes.Equal(again, binary) {
		t.Fatalf("a caller's change reached the store: %q", again)
	}

	// Names that differ only by a suffix, case, a character class that
	// SQL LIKE or a glob would treat specially, or non-ASCII are distinct.
	names := []string{"acme/relay.test+rsa", "acme/RELAY.test", "acme/relay_test", "acme/relay%test",
		"acme/relay*test", "acme/{relay.test}", "acme/relais-é.test", "acme_account+key"}
	for i, n := range names {
		putBlob(t, b, n, []byte(fmt.Sprint("value ", i)))
	}
	for i, n := range names {
		if got := string(getBlob(t, b, n)); got != fmt.Sprint("value ", i) {
			t.Fatalf("%q holds %q", n, got)
		}
	}
	if got := getBlob(t, b, "acme/relay.test"); !bytes.Equal(got, binary) {
		t.Fatalf("a neighbour overwrote acme/relay.test: %q", got)
	}

	putBlob(t, b, "acme/relay.test", []byte("renewed"))
	if got := string(getBlob(t, b, "acme/relay.test")); got != "renewed" {
		t.Fatalf("after a second put: %q", got)
	}

	putBlob(t, b, "empty", nil)
	if got := getBlob(t, b, "empty"); got == nil || len(got) != 0 {
		t.Fatalf("an empty value came back as %#v, want a non-nil empty slice", got)
	}

	if err := b.DeleteBlob(ctx, "acme/relay.test"); err != nil {
		t.Fatal(err)
	}
	wantNoBlob(t, b, "acme/relay.test")
	if err := b.DeleteBlob(ctx, "acme/relay.test"); err != nil {
		t.Fatalf("deleting an absent blob: %v", err)
	}
	if got := string(getBlob(t, b, "acme/relay.test+rsa")); got != "value 0" {
		t.Fatalf("a delete reached a neighbour: %q", got)
	}
}

// blobsBounded: MaxBlobBytes fits, one byte more is refused without
// touching the stored value, and bad names are refused as such (not as an
// outage).
func blobsBounded(t *testing.T, s store.Store) {
	b := blobsOf(t, s)
	full := bytes.Repeat([]byte{0xa5}, store.MaxBlobBytes)
	full[len(full)-1] = 0x5a
	putBlob(t, b, "big", full)
	if got := getBlob(t, b, "big"); !bytes.Equal(got, full) {
		t.Fatalf("a %d-byte value came back as %d bytes", len(full), len(got))
	}
	err := b.PutBlob(ctx, "big", append(full, 0))
	if !errors.Is(err, store.ErrBlobTooLarge) {
		t.Fatalf("a value over MaxBlobBytes: %v, want ErrBlobTooLarge", err)
	}
	if got := getBlob(t, b, "big"); !bytes.Equal(got, full) {
		t.Fatal("a refused put changed the stored value")
	}
	if err := b.PutBlob(ctx, "too-big-new", make([]byte, store.MaxBlobBytes+1)); !errors.Is(err, store.ErrBlobTooLarge) {
		t.Fatalf("%v, want ErrBlobTooLarge", err)
	}
	wantNoBlob(t, b, "too-big-new")

	for _, name := range []string{"", "a\x00b", "\xff\xfe", strings.Repeat("n", store.MaxBlobNameBytes+1)} {
		for op, err := range map[string]error{
			"put":    b.PutBlob(ctx, name, []byte("x")),
			"delete": b.DeleteBlob(ctx, name),
			"get":    func() error { _, err := b.GetBlob(ctx, name); return err }(),
		} {
			if err == nil || errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrBlobNotFound) {
				t.Errorf("%s of a bad name %q: %v, want a refusal", op, name, err)
			}
		}
	}
	long := strings.Repeat("n", store.MaxBlobNameBytes)
	putBlob(t, b, long, []byte("longest name"))
	if got := string(getBlob(t, b, long)); got != "longest name" {
		t.Fatalf("longest name holds %q", got)
	}
}

// blobsConcurrent: writers of different names in parallel, with calls
// going on, all land; Prune (even far in the future) keeps blobs.
func blobsConcurrent(t *testing.T, s store.Store) {
	b := blobsOf(t, s)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("acme/host-%d.test", i)
			for round := 0; round < 5; round++ {
				if err := b.PutBlob(ctx, name, []byte(fmt.Sprintf("%d/%d", i, round))); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Admit(ctx, admission(fmt.Sprintf("blob-neighbour-%d", i), nil)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if err := s.Prune(ctx, base.Add(365*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 16; i++ {
		name := fmt.Sprintf("acme/host-%d.test", i)
		if got, want := string(getBlob(t, b, name)), fmt.Sprintf("%d/4", i); got != want {
			t.Fatalf("%s holds %q, want %q (the last put)", name, got, want)
		}
	}
}

// SharedBlobs checks two instances on one backing store (two relays on
// one Redis or database) see each other's blobs at once: a put on one is
// read, replaced and deleted through the other.
func SharedBlobs(t *testing.T, a, b store.Store) {
	ba, bb := blobsOf(t, a), blobsOf(t, b)
	wantNoBlob(t, bb, "acme/shared.test")
	putBlob(t, ba, "acme/shared.test", []byte("from a"))
	if got := string(getBlob(t, bb, "acme/shared.test")); got != "from a" {
		t.Fatalf("b reads %q", got)
	}
	putBlob(t, bb, "acme/shared.test", []byte("renewed by b"))
	if got := string(getBlob(t, ba, "acme/shared.test")); got != "renewed by b" {
		t.Fatalf("a reads %q", got)
	}
	if err := ba.DeleteBlob(ctx, "acme/shared.test"); err != nil {
		t.Fatal(err)
	}
	wantNoBlob(t, bb, "acme/shared.test")
}

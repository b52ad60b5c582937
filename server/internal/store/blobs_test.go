package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// blobStore is a Store (the embedded nil interface is never called) that
// keeps blobs in a map.
type blobStore struct {
	Store
	m map[string][]byte
}

func (b *blobStore) GetBlob(_ context.Context, name string) ([]byte, error) {
	if v, ok := b.m[name]; ok {
		return v, nil
	}
	return nil, ErrBlobNotFound
}

func (b *blobStore) PutBlob(_ context.Context, name string, data []byte) error {
	b.m[name] = data
	return nil
}

func (b *blobStore) DeleteBlob(_ context.Context, name string) error {
	delete(b.m, name)
	return nil
}

type plainStore struct{ Store }

// With store.log_driver the blobs are the usage store's, never the log's.
func TestBlobsOfReachesTheUsageStoreThroughWithLog(t *testing.T) {
	counters, logs := &blobStore{m: map[string][]byte{}}, &blobStore{m: map[string][]byte{}}
	b, ok := BlobsOf(WithLog(counters, logs))
	if !ok {
		t.Fatal("BlobsOf(WithLog(...)) found no Blobs")
	}
	if err := b.PutBlob(context.Background(), "acme/x", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if string(counters.m["acme/x"]) != "v" || len(logs.m) != 0 {
		t.Fatalf("counters %v, logs %v", counters.m, logs.m)
	}
	if b, ok := BlobsOf(counters); !ok || b != Blobs(counters) {
		t.Fatal("BlobsOf of a backend is the backend")
	}
	if _, ok := BlobsOf(plainStore{}); ok {
		t.Fatal("a store without blobs reported some")
	}
	if _, ok := BlobsOf(WithLog(plainStore{}, logs)); ok {
		t.Fatal("WithLog lent the log store's blobs to a usage store without any")
	}
}

func TestCheckBlob(t *testing.T) {
	for name, want := range map[string]string{
		"": "empty", "a\x00": "NUL", "\xc3": "UTF-8", strings.Repeat("a", MaxBlobNameBytes+1): "longer",
	} {
		if err := CheckBlobName(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", name, err, want)
		}
	}
	if err := CheckBlob("acme/relay.test", make([]byte, MaxBlobBytes)); err != nil {
		t.Fatal(err)
	}
	if err := CheckBlob("acme/relay.test", make([]byte, MaxBlobBytes+1)); !errors.Is(err, ErrBlobTooLarge) {
		t.Fatal(err)
	}
}

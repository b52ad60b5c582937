package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

var _ store.Blobs = (*Store)(nil)

// GetBlob reads through the read-only pool, like every read.
func (s *Store) GetBlob(ctx context.Context, name string) ([]byte, error) {
	if err := store.CheckBlobName(name); err != nil {
		return nil, err
	}
	var data []byte
	err := s.read.QueryRowContext(ctx, `SELECT data FROM blobs WHERE name = ?`, name).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrBlobNotFound
	}
	if err != nil {
		return nil, unavailable(err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// PutBlob and DeleteBlob go through the writer, the only one to write the
// file, as background ops: committed after the calls of their batch.
func (s *Store) PutBlob(ctx context.Context, name string, data []byte) error {
	if err := store.CheckBlob(name, data); err != nil {
		return err
	}
	if data == nil {
		data = []byte{} // NOT NULL: an empty value is still a value
	}
	return s.w.do(ctx, &putBlobOp{name: name, data: data, now: time.Now().UnixMilli()})
}

func (s *Store) DeleteBlob(ctx context.Context, name string) error {
	if err := store.CheckBlobName(name); err != nil {
		return err
	}
	return s.w.do(ctx, &deleteBlobOp{name: name})
}

type putBlobOp struct {
	name string
	data []byte
	now  int64
}

func (o *putBlobOp) apply(w *writer) error {
	if err := w.stmts.putBlob.exec(o.name, o.data, o.now); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	return nil
}

func (*putBlobOp) background() {}

type deleteBlobOp struct{ name string }

func (o *deleteBlobOp) apply(w *writer) error {
	if err := w.stmts.deleteBlob.exec(o.name); err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

func (*deleteBlobOp) background() {}

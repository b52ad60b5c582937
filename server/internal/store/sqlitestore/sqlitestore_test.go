package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
	"github.com/relayapi/relayapi/server/internal/store/storetest"
)

func TestSQLiteStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "relayapi.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

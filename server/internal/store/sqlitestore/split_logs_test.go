package sqlitestore

import (
	"testing"

	"github.com/relayapi/relayapi/server/internal/store"
)

func TestSplitBackgroundPutsLogAndPruneOpsLastKeepingEachOrder(t *testing.T) {
	a1, a2 := &request{op: &settleOp{}}, &request{op: &settleOp{}}
	l1, p1, l2 := &request{op: logOp{store.Record{}}}, &request{op: &pruneOp{}}, &request{op: logOp{}}
	hot, later := splitBackground([]*request{l1, a1, p1, l2, a2}, nil)
	if len(hot) != 2 || hot[0] != a1 || hot[1] != a2 || len(later) != 3 || later[0] != l1 || later[1] != p1 || later[2] != l2 {
		t.Fatalf("hot %v, later %v", hot, later)
	}
}

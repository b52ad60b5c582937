package sqlitestore

import (
	"testing"

	"github.com/relayapi/relayapi/server/internal/store"
)

func TestSplitLogsPutsRequestLogOpsLastKeepingEachOrder(t *testing.T) {
	a1, a2 := &request{op: &settleOp{}}, &request{op: &settleOp{}}
	l1, l2 := &request{op: logOp{store.Record{}}}, &request{op: logOp{}}
	hot, logs := splitLogs([]*request{l1, a1, l2, a2}, nil)
	if len(hot) != 2 || hot[0] != a1 || hot[1] != a2 || len(logs) != 2 || logs[0] != l1 || logs[1] != l2 {
		t.Fatalf("hot %v, logs %v", hot, logs)
	}
}

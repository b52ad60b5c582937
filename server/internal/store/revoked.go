package store

import "context"

// RevokedLister finds in one round trip which of many tokens are revoked:
// how a relay holding thousands of live realtime sessions checks all of
// them every few seconds without a store read per session. Every backend
// implements it; RevokedOf finds it through wrappers.
type RevokedLister interface {
	// Revoked returns the jtis among jtis that are revoked (in any order).
	Revoked(ctx context.Context, jtis []string) ([]string, error)
}

// MaxRevokedBatch bounds the jtis of one Revoked call (SQLite binds one
// parameter per jti; its limit is 32766).
const MaxRevokedBatch = 1000

// RevokedOf returns the RevokedLister of s (the usage store's, with
// store.log_driver).
func RevokedOf(s Store) (RevokedLister, bool) {
	if sp, ok := s.(*split); ok {
		return RevokedOf(sp.Store)
	}
	r, ok := s.(RevokedLister)
	return r, ok
}

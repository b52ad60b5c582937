package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Admit decides one call. Without a subject limit it is one script on the
// token's keys. With one, the subject's window counter lives in another
// Cluster slot (it spans tokens), and a script may only touch one slot, so:
//
//  1. subject.lua takes a call from the window if it is not full;
//  2. admit.lua decides for the token, told whether the window was full,
//     so the refusal order is exactly Decide's;
//  3. if the token refused after step 1 took a call, unsubject.lua gives
//     it back.
//
// A refusal therefore leaves no trace. Between steps 1 and 3 another
// admission may see the window one fuller than it ends up (a spurious
// refusal), and if step 3 cannot run the window keeps the extra call: both
// err on the safe side, never admitting more than the limit.
func (s *Store) Admit(ctx context.Context, a store.Admission) (store.Grant, error) {
	took, full, err := s.takeSubjectCall(ctx, a)
	if err != nil {
		return store.Grant{}, err
	}
	g, indexed, err := s.admitToken(ctx, a, full)
	if err != nil || g.Decision != store.Admitted {
		if took {
			s.giveSubjectCallBack(ctx, a)
		}
		return g, err
	}
	if !indexed {
		s.index(ctx, a)
	}
	return g, nil
}

func subjectLimited(a store.Admission) bool {
	return a.SubjectLimit.Calls > 0 && a.Subject != ""
}

func (s *Store) takeSubjectCall(ctx context.Context, a store.Admission) (took, full bool, err error) {
	if !subjectLimited(a) {
		return false, false, nil
	}
	start := store.WindowStart(a.Now, a.SubjectLimit.Window)
	c := newCall(ctx, s.scripts.subject, replyInt, subjectWindowKey(a.Subject, start))
	defer c.release()
	c.int(a.SubjectLimit.Calls)
	c.int(start.Add(a.SubjectLimit.Window).Add(keyMargin).UnixMilli())
	if err := s.pipe.do(c); err != nil {
		return false, false, unavailable("admit subject", err)
	}
	n := c.intReply()
	return n == 1, n == 0, nil
}

// giveSubjectCallBack ignores failure: the admission is refused either
// way, and a window left one call fuller only errs on the safe side.
func (s *Store) giveSubjectCallBack(ctx context.Context, a store.Admission) {
	start := store.WindowStart(a.Now, a.SubjectLimit.Window)
	c := newCall(context.WithoutCancel(ctx), s.scripts.unsubject, replyInt, subjectWindowKey(a.Subject, start))
	_ = s.pipe.do(c)
	c.release()
}

func (s *Store) admitToken(ctx context.Context, a store.Admission, subjectFull bool) (store.Grant, bool, error) {
	c, leaseID := s.admitCall(ctx, a, subjectFull)
	defer c.release()
	if err := s.pipe.do(c); err != nil {
		return store.Grant{}, false, unavailable("admit", err)
	}
	r := c.intsReply()
	if len(r) != 9 {
		return store.Grant{}, false, unavailable("admit", fmt.Errorf("script replied %d values", len(r)))
	}
	g := grantOf(r, a)
	if g.Decision == store.Admitted {
		g.LeaseID = leaseID
	}
	return g, r[8] == 1, nil
}

// admitCall prepares admit.lua for a; leaseID is the lease it takes if
// admitted, empty when the token has no concurrency or budget limit (no
// lease is needed, and admit.lua then ignores the id).
func (s *Store) admitCall(ctx context.Context, a store.Admission, subjectFull bool) (c *call, leaseID string) {
	if a.Concurrency > 0 || a.TokenBudget > 0 {
		leaseID = newLeaseID()
	}
	k := keysOf(a.TokenID)
	c = newCall(ctx, s.scripts.admit, replyInts, k.usage, k.leases, k.reserved, k.revoked)
	c.int(a.Now.UnixMilli())
	c.int(a.MaxCalls)
	c.int(a.RPM)
	c.int(a.Concurrency)
	c.int(a.TokenBudget)
	c.int(a.PromptEstimate)
	c.int(a.RequestedMaxTokens)
	c.bool(subjectFull)
	c.str(leaseID)
	c.int(a.Now.Add(a.LeaseTTL).UnixMilli())
	c.str(a.Subject)
	c.int(a.ExpiresAt.Unix())
	c.int(keyExpiry(a.ExpiresAt, a.Now))
	return c, leaseID
}

// grantOf reads admit.lua's reply.
func grantOf(r []int64, a store.Admission) store.Grant {
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	g := store.Grant{
		Decision: store.Decision(r[0]), Calls: r[1], RetryAfter: ms(r[2]), RPMReset: ms(r[3]),
		RPMRemaining: r[4], Reserved: r[5], CompletionCap: r[6], BudgetRemaining: r[7],
	}
	if g.Decision == store.BudgetExceeded {
		g.BudgetHeld, g.Reserved = g.Reserved, 0
	}
	if g.Decision == store.SubjectLimitReached {
		end := store.WindowStart(a.Now, a.SubjectLimit.Window).Add(a.SubjectLimit.Window)
		g.RetryAfter = end.Sub(a.Now)
	}
	return g
}

// index adds a newly seen token to the listing indexes. These keys are
// global (not in the token's slot), so this is a separate pipeline after
// the script; if it fails the grant stands (the call is already spent)
// and the next admission tries again, as the token's ix flag stays unset.
func (s *Store) index(ctx context.Context, a store.Admission) {
	ctx = context.WithoutCancel(ctx)
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, tokensKey, redis.Z{Member: a.TokenID})
		if a.Subject != "" {
			p.ZAdd(ctx, subjectIndexKey(a.Subject), redis.Z{Member: a.TokenID})
		}
		p.ZAdd(ctx, expKey, redis.Z{Score: float64(a.ExpiresAt.Unix()), Member: expMember(a.TokenID, a.Subject)})
		p.HSet(ctx, keysOf(a.TokenID).usage, "ix", 1)
		return nil
	})
}

func newLeaseID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	var h [2 * len(b)]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}

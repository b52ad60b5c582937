package redisstore

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bounds of one script call, set by the largest (admit.lua: 4 keys and 13
// arguments, 11 of them integers and 2 strings).
const (
	maxStrs = 6
	maxInts = 12
	maxArgv = 3 + maxStrs + maxInts
)

// reply is the shape of a script's reply, which picks the go-redis command
// type that parses it without boxing each value.
type reply uint8

const (
	replyInt  reply = iota // one integer
	replyInts              // an array of integers
)

// call is one script run, queued on the pipeliner and answered on done.
// Its argv lives in the call itself: strings and integers go in as
// pointers into strs and ints (go-redis writes *string and *int64 as the
// values they point to), so building it allocates nothing, and calls are
// pooled. A call belongs to its caller until queued, to the pipeliner until
// answered, then to the caller again, who releases it.
type call struct {
	ctx    context.Context
	script *script
	reply  reply
	// deadline ends the call's wait in the queue (not once sent).
	deadline time.Time

	argv [maxArgv]any
	n    int
	strs [maxStrs]string
	ns   int
	ints [maxInts]int64
	ni   int

	cmd  redis.Cmder
	err  error
	done chan struct{}
}

var calls = sync.Pool{New: func() any { return &call{done: make(chan struct{}, 1)} }}

// newCall starts an EVALSHA of sc over keys (every key of one call is in
// one Cluster slot); add its arguments with int and str, in ARGV order.
func newCall(ctx context.Context, sc *script, r reply, keys ...string) *call {
	c := calls.Get().(*call)
	c.ctx, c.script, c.reply = ctx, sc, r
	c.argv[2] = len(keys) // small ints box without allocating
	c.n = 3
	for _, k := range keys {
		c.str(k)
	}
	return c
}

func (c *call) int(v int64) {
	c.ints[c.ni] = v
	c.argv[c.n] = &c.ints[c.ni]
	c.ni++
	c.n++
}

func (c *call) str(s string) {
	c.strs[c.ns] = s
	c.argv[c.n] = &c.strs[c.ns]
	c.ns++
	c.n++
}

func (c *call) bool(b bool) {
	if b {
		c.int(1)
	} else {
		c.int(0)
	}
}

// build makes the command to send: EVALSHA, or EVAL with the source after
// Redis answered NOSCRIPT (EVAL also caches the script again).
func (c *call) build(ctx context.Context, eval bool) redis.Cmder {
	if eval {
		c.argv[0], c.argv[1] = "eval", &c.script.src
	} else {
		c.argv[0], c.argv[1] = "evalsha", &c.script.sha
	}
	argv := c.argv[:c.n]
	if c.reply == replyInts {
		cmd := redis.NewIntSliceCmd(ctx, argv...)
		cmd.SetFirstKeyPos(3) // Cluster routes by the first key
		c.cmd = cmd
	} else {
		cmd := redis.NewIntCmd(ctx, argv...)
		cmd.SetFirstKeyPos(3)
		c.cmd = cmd
	}
	return c.cmd
}

// noScript tells whether Redis did not run the script because its cache
// lacks it (after a restart, failover or SCRIPT FLUSH): safe to resend.
func (c *call) noScript() bool {
	err := c.cmd.Err()
	if err == nil { // the usual case, and HasErrorPrefix allocates
		return false
	}
	return errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")
}

// answer hands the call back to its caller; the pipeliner must not touch
// it afterwards.
func (c *call) answer(err error) {
	c.err = err
	c.done <- struct{}{}
}

// intReply and intsReply read a successful call's reply.
func (c *call) intReply() int64 { return c.cmd.(*redis.IntCmd).Val() }

func (c *call) intsReply() []int64 { return c.cmd.(*redis.IntSliceCmd).Val() }

// release returns the call to the pool once its caller has read the reply.
func (c *call) release() {
	clear(c.strs[:c.ns])
	clear(c.argv[:c.n])
	c.ctx, c.script, c.cmd, c.err = nil, nil, nil, nil
	c.n, c.ns, c.ni = 0, 0, 0
	calls.Put(c)
}

package redisstore

import "github.com/redis/go-redis/v9"

// NewWithClient lets tests run the store on a Redis Cluster client.
// Pipelined calls get DefaultTimeout.
func NewWithClient(c redis.UniversalClient) *Store { return newStore(c, DefaultTimeout) }

// MaxPageScan and LogSkew bound the log reads (records.go).
const (
	MaxPageScan = maxPageScan
	LogSkew     = logSkew
)

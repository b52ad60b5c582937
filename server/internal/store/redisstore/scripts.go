package redisstore

import (
	_ "embed" // Lua sources
	"github.com/redis/go-redis/v9"
)

var (
	//go:embed lua/admit.lua
	admitLua string
	//go:embed lua/subject.lua
	subjectLua string
	//go:embed lua/unsubject.lua
	unsubjectLua string
	//go:embed lua/settle.lua
	settleLua string
	//go:embed lua/renew.lua
	renewLua string
	//go:embed lua/revoke.lua
	revokeLua string
	//go:embed lua/trimlog.lua
	trimLogLua string
)

// scripts run by EVALSHA, falling back to EVAL (which loads them) after a
// Redis restart or failover emptied the script cache.
type scripts struct {
	admit, subject, unsubject, settle, renew, revoke, trimLog *redis.Script
}

func newScripts() scripts {
	return scripts{
		admit:     redis.NewScript(admitLua),
		subject:   redis.NewScript(subjectLua),
		unsubject: redis.NewScript(unsubjectLua),
		settle:    redis.NewScript(settleLua),
		renew:     redis.NewScript(renewLua),
		revoke:    redis.NewScript(revokeLua),
		trimLog:   redis.NewScript(trimLogLua),
	}
}

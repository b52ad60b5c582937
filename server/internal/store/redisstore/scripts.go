package redisstore

import (
	_ "embed" // Lua sources

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed lua/lapse.lua
	lapseLua string
	//go:embed lua/admit.lua
	admitLua string
	//go:embed lua/subject.lua
	subjectLua string
	//go:embed lua/unsubject.lua
	unsubjectLua string
	//go:embed lua/settle.lua
	settleLua string
	//go:embed lua/hold.lua
	holdLua string
	//go:embed lua/renew.lua
	renewLua string
	//go:embed lua/revoke.lua
	revokeLua string
	//go:embed lua/trimlog.lua
	trimLogLua string
)

// script is a Lua script with its source and digest at hand. Direct calls
// use the embedded redis.Script (Run: EVALSHA, falling back to EVAL after a
// Redis restart or failover emptied the script cache); the pipeliner sends
// EVALSHA itself and retries with EVAL on NOSCRIPT, so it needs both.
type script struct {
	*redis.Script
	src, sha string
}

func newScript(src string) *script {
	s := redis.NewScript(src)
	return &script{Script: s, src: src, sha: s.Hash()}
}

type scripts struct {
	admit, subject, unsubject, settle, hold, renew, revoke, trimLog *script
}

func newScripts() scripts {
	return scripts{
		admit:     newScript(lapseLua + admitLua),
		subject:   newScript(subjectLua),
		unsubject: newScript(unsubjectLua),
		settle:    newScript(settleLua),
		hold:      newScript(lapseLua + holdLua),
		renew:     newScript(renewLua),
		revoke:    newScript(revokeLua),
		trimLog:   newScript(trimLogLua),
	}
}

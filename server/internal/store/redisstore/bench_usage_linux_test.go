package redisstore_test

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type usage struct {
	cpu    time.Duration
	writes int64
	ok     bool
}

// processUsage reads this process's CPU time and its count of write
// syscalls (syscw in /proc/self/io).
func processUsage() usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return usage{}
	}
	io, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return usage{}
	}
	u := usage{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ok: true}
	for line := range strings.SplitSeq(string(io), "\n") {
		if v, found := strings.CutPrefix(line, "syscw: "); found {
			u.writes, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return u
}

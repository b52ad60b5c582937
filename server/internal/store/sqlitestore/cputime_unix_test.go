//go:build unix

package sqlitestore_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process used so far (user and system), or
// 0 if unknown: per op, it is steadier than wall time on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build linux

package rlimit

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// RaiseNoFile raises the soft RLIMIT_NOFILE of the calling process to its
// hard limit. It returns the soft limit found (before) and the one in force
// afterwards (after). When the limit cannot be raised, err says why and
// after equals before. On platforms other than Linux it does nothing and
// returns 0, 0, nil.
func RaiseNoFile() (before, after uint64, err error) {
	return raise(getNoFile, setNoFile, nrOpen)
}

func getNoFile(l *syscall.Rlimit) error { return syscall.Getrlimit(syscall.RLIMIT_NOFILE, l) }
func setNoFile(l *syscall.Rlimit) error { return syscall.Setrlimit(syscall.RLIMIT_NOFILE, l) }

// rlimInfinity is RLIM_INFINITY on Linux.
const rlimInfinity = ^uint64(0)

// nrOpen is the kernel's ceiling for RLIMIT_NOFILE (fs.nr_open); a soft
// limit above it is refused.
func nrOpen() uint64 {
	b, err := os.ReadFile("/proc/sys/fs/nr_open")
	if err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 1 << 20 // the kernel's default nr_open
}

func raise(get, set func(*syscall.Rlimit) error, ceiling func() uint64) (before, after uint64, err error) {
	var lim syscall.Rlimit
	if err := get(&lim); err != nil {
		return 0, 0, err
	}
	before = lim.Cur
	want := lim.Max
	if want == rlimInfinity {
		// Linux never allows an infinite RLIMIT_NOFILE; take the most it allows.
		want = ceiling()
	}
	if lim.Cur >= want {
		return before, before, nil
	}
	lim.Cur = want
	if err := set(&lim); err != nil {
		return before, before, err
	}
	if err := get(&lim); err != nil {
		return before, want, nil
	}
	return before, lim.Cur, nil
}

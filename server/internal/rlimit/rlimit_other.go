//go:build !linux

package rlimit

// RaiseNoFile does nothing on platforms other than Linux and returns
// 0, 0, nil (on Linux it raises the soft RLIMIT_NOFILE to the hard limit).
func RaiseNoFile() (before, after uint64, err error) {
	return 0, 0, nil
}

//go:build linux || darwin

package sqlitestore

import "syscall"

// freeBytes is the space an unprivileged writer can still use on the
// volume of dir.
func freeBytes(dir string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	// Bavail and Bsize have other integer types on other platforms.
	return int64(st.Bavail) * int64(st.Bsize), true
}

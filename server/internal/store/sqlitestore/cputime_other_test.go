//go:build !unix

package sqlitestore_test

import "time"

func cpuTime() time.Duration { return 0 }

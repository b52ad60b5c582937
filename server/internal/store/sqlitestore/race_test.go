//go:build race

package sqlitestore

// raceEnabled scales the load tests down: the race detector slows the
// writer about tenfold.
const raceEnabled = true

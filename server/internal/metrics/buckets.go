package metrics

// requestBuckets span 1 ms (a relay-made refusal) to 5 min (a long
// streamed completion); beyond that everything lands in +Inf.
var requestBuckets = []float64{
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 20, 30, 60, 120, 300,
}

// storeBuckets span 100 µs (embedded SQLite, local Redis) to 2.5 s (a
// struggling remote database).
var storeBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
}

// Package rlimit raises the relay's own file descriptor limit at start.
//
// Every open request holds at least two sockets (client and provider), so a
// relay serving thousands of concurrent streams needs thousands of file
// descriptors. Many hosts still hand processes a soft RLIMIT_NOFILE of 1024
// or 4096; the hard limit, set by the operator (systemd LimitNOFILE, compose
// ulimits, the container runtime), is what should count.
//
// The Go runtime (since Go 1.19) already lifts the soft limit to one below
// the hard limit while it starts. RaiseNoFile makes that explicit and
// independent of the runtime's behaviour, takes the last descriptor too, and
// returns both figures so the relay can log the limit it really runs with.
package rlimit

// Package soaktest holds the soak (load) test of the session stores: for
// each backend (file, db on SQLite, PostgreSQL and MySQL, cache on Redis and
// memcached, cached_db) it holds many concurrent clients on one store for a
// fixed time, doing what a site does through django.Session (80% loads, 15%
// load-modify-saves, 5% create then delete), and records throughput, p50 and
// p99 latency and the heap (HeapInuse after a collection, each second). It
// fails on any operation that goes wrong, on more than 0.1% that time out
// (a loaded machine stalls a few), and when the mean heap of the run's last
// third exceeds 1.5 times its first third's (after a warm-up fifth).
//
// It is opt-in, since it takes minutes and needs the test servers:
//
//	DJSESSION_SOAK=1 go test -v -run TestSoak ./backends/soaktest/
//
// (-v shows the table). DJSESSION_SOAK_TIME (a Go duration or seconds,
// default 10s per backend), DJSESSION_SOAK_CLIENTS (default 32) or the
// flags -soak.time and -soak.clients, and DJSESSION_SOAK_BACKENDS (a
// comma-separated subset of the backend names) shape the run. Server
// addresses come from package testenv. The same workload runs as a
// benchmark, BenchmarkSoak/<backend>, reporting ops/s and latency
// percentiles:
//
//	go test -run '^$' -bench Soak ./backends/soaktest/
//
// Run it without -race: the race detector slows everything several times and
// multiplies memory.
package soaktest

// Package faulttest holds no code: its tests inject faults into the real
// servers behind the session backends and check what the stores and the
// net/http middleware do about them. A Redis or memcached server killed
// and restarted, PostgreSQL connections terminated mid-traffic, a
// read-only or full session folder, a server that answers slower than the
// store's timeout: every store call fails with a clear error within its
// timeout (never a hang or a panic), a read-only request through
// middleware.Sessions and middleware.Auth is answered as an anonymous 200,
// never a 500, a session is never overwritten or torn, and the store
// recovers without being reopened once the fault ends.
//
// The suite runs only with DJSESSION_FAULTS=1, because it starts and
// kills its own redis-server and memcached on free loopback ports,
// terminates PostgreSQL backends of its own per-test database, and mounts
// small tmpfs folders when it runs as root:
//
//	DJSESSION_FAULTS=1 DJSESSION_REQUIRE_SERVICES=1 go test -race -count=1 ./backends/faulttest/
//
// PostgreSQL is found as the other backend tests find it
// (DJSESSION_POSTGRES_URL, see package testenv); a missing server or
// binary skips, or fails with DJSESSION_REQUIRE_SERVICES=1. Mounting is a
// property of the sandbox, not a service: where it is not permitted the
// tmpfs cases skip with the reason even then.
package faulttest

package faulttest_test

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
)

// dbLimit is the longest one database store call may take: the store's
// WithTimeout, plus slack. dbHangLimit is "it did not hang".
const (
	dbLimit     = dbTimeout + slack
	dbHangLimit = dbTimeout + 2*time.Second
)

// createTable creates django_session in the database of url, without the
// suite's short limit (setup, not the subject: DDL on a loaded server may
// take longer).
func createTable(t *testing.T, url string, s *django.Settings) {
	t.Helper()
	st, err := db.Open(url, s, db.WithConnectTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateTable(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// openDB opens the db store of url with the suite's limits.
func openDB(t *testing.T, url string, s *django.Settings) *db.Store {
	t.Helper()
	st, err := db.Open(url, s, db.WithTimeout(dbTimeout), db.WithConnectTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// terminator ends every other connection to the test's database from an
// admin connection of its own.
type terminator struct {
	admin *sql.DB
}

func newTerminator(t *testing.T, url string) *terminator {
	t.Helper()
	admin, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	admin.SetMaxOpenConns(1)
	t.Cleanup(func() { admin.Close() })
	return &terminator{admin: admin}
}

// kill terminates the other backends and returns how many it ended.
func (k *terminator) kill(ctx context.Context) (int, error) {
	var n int
	err := k.admin.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE ended) FROM (
		SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t`).Scan(&n)
	return n, err
}

// versioned is the record of version n of a torn-write probe: "n" and a
// "pad" derived from it, so a half-written or mixed row shows.
func versioned(key string, n int) *django.Record {
	v := strconv.Itoa(n)
	return record(key, "n", v, "pad", strings.Repeat(v+"-", 200))
}

// checkVersion loads a probe and checks it holds one whole version between
// lo and hi.
func checkVersion(t *testing.T, ops storeOps, key string, lo, hi int) {
	t.Helper()
	d, found, err := ops.st.Load(ops.ctx, key)
	if err != nil || !found {
		t.Errorf("torn-write probe: Load = found %v, %v; want the row", found, err)
		return
	}
	nv, _ := d.GetStr("n")
	pv, _ := d.GetStr("pad")
	ns, _ := nv.Str()
	ps, _ := pv.Str()
	n, err := strconv.Atoi(ns)
	if err != nil || ps != strings.Repeat(ns+"-", 200) || n < lo || n > hi || d.Len() != 2 {
		t.Errorf("torn-write probe: got %s, want one whole version in [%d, %d]", py.DictOf(d).Repr(), lo, hi)
	}
}

// TestPostgresConnectionsTerminated: our connections to a per-test
// database are terminated (pg_terminate_backend) three times under
// traffic, and once more while the pool is idle. Calls either succeed
// (database/sql retries a connection lib/pq reports bad) or fail with a
// "db: " error, and never hang; a stored session is never reported missing, and
// /whoami never deletes the cookie; an update caught by a kill leaves the
// old or the new version, whole; afterwards everything works again.
func TestPostgresConnectionsTerminated(t *testing.T) {
	requireFaults(t)
	url := testenv.PostgresDB(t)
	s := settings()
	createTable(t, url, s)
	st := openDB(t, url, s)
	ctx := testCtx(t)
	term := newTerminator(t, url)
	ops := storeOps{st: st, ctx: ctx}
	a := newApp(t, st, s)

	user := a.login(t)
	wantUser(t, a.get("/whoami", user), "1")
	kept := newKey(t)
	probes := []string{newKey(t), newKey(t)}
	for _, k := range append([]string{kept}, probes...) {
		if r := ops.save(versioned(k, 0), true); r.err != nil {
			t.Fatalf("healthy: %s", r)
		}
	}

	// Each probe worker writes versions 1, 2, ... of its own probe and
	// remembers the last one confirmed and the last one attempted.
	confirmed, attempted := make([]int, len(probes)), make([]int, len(probes))
	probe := func(w int) func(int) result {
		return func(i int) result {
			attempted[w] = i + 1
			r := ops.save(versioned(probes[w], i+1), false)
			if r.err == nil {
				confirmed[w] = i + 1
			}
			return r
		}
	}
	tr := startTraffic(
		func(int) result { return a.get("/whoami", user) },
		func(int) result { return ops.load(kept) },
		func(i int) result {
			k, _ := django.NewSessionKey()
			return ops.save(record(k, "i", strconv.Itoa(i)), true)
		},
		probe(0), probe(1),
	)
	terminated := 0
	for range 3 {
		time.Sleep(150 * time.Millisecond)
		n, err := term.kill(ctx)
		if err != nil {
			tr.Stop()
			t.Fatalf("pg_terminate_backend: %v", err)
		}
		terminated += n
	}
	time.Sleep(150 * time.Millisecond)
	rs := tr.Stop()
	if terminated == 0 {
		t.Fatal("pg_terminate_backend ended no connection: the test proves nothing")
	}

	var failed, anonymous, conflicts int
	for _, r := range rs {
		switch {
		case strings.HasPrefix(r.op, "GET"):
			if r.err != nil || r.status != 200 || (r.body != "1" && r.body != "anonymous") || r.cookie != nil {
				t.Errorf("/whoami around a kill: want 200, the user or anonymous, no Set-Cookie: %s", r)
			}
			if r.body == "anonymous" {
				anonymous++
			}
		case r.err == nil:
			if r.op == "Load" && !r.found {
				t.Errorf("a stored session reported missing around a kill: %s", r)
			}
		case errors.Is(r.err, django.ErrUpdateMissing):
			t.Errorf("an existing session reported deleted around a kill: %s", r)
		case errors.Is(r.err, django.ErrCreateConflict):
			// A retried INSERT whose first attempt committed: Session.Create
			// would retry with another key.
			conflicts++
		case strings.HasPrefix(r.err.Error(), "db: "):
			failed++
			if failed <= 3 {
				t.Logf("failed around a kill: %s", r)
			}
		default:
			t.Errorf("unclear error around a kill: %s", r)
		}
	}
	// Killed connections cost a reconnection, and lib/pq enforces the
	// store's deadline only by a cancel request to the server (see
	// TestSlowPostgres), so on a loaded machine a call may overrun
	// WithTimeout here; the bound is "never hangs".
	slowest := checkTiming(t, rs, dbHangLimit)
	t.Logf("traffic: %d calls, %d backends terminated in 3 kills; %d store calls failed, %d /whoami anonymous, "+
		"%d create conflicts; slowest %s (limit %v)", len(rs), terminated, failed, anonymous, conflicts,
		slowest, dbHangLimit)

	// A kill while the pool is idle: every pooled connection is dead.
	// database/sql retries a connection lib/pq reports bad (twice on
	// pooled ones, then on a new one), so the next calls succeed, or fail
	// with a clear error if the retries outlast the deadline.
	n, err := term.kill(ctx)
	if err != nil {
		t.Fatalf("pg_terminate_backend: %v", err)
	}
	time.Sleep(50 * time.Millisecond) // let the FATAL messages arrive
	after := []result{
		ops.load(kept), ops.exists(kept), ops.save(record(newKey(t), "a", "b"), true),
		ops.save(versioned(kept, 1), false), a.get("/whoami", user),
	}
	for _, r := range after {
		switch {
		case strings.HasPrefix(r.op, "GET"):
			if r.err != nil || r.status != 200 || (r.body != "1" && r.body != "anonymous") || r.cookie != nil {
				t.Errorf("first /whoami after killing %d idle connections: %s", n, r)
			}
		case r.err == nil:
			if (r.op == "Load" || r.op == "Exists") && !r.found {
				t.Errorf("first call after killing %d idle connections: a stored session reported missing: %s", n, r)
			}
		case !strings.HasPrefix(r.err.Error(), "db: ") || errIsAny(r.err, django.ErrUpdateMissing, django.ErrCreateConflict):
			t.Errorf("first call after killing %d idle connections: unclear error: %s", n, r)
		default:
			t.Logf("first call after killing %d idle connections failed: %s", n, r)
		}
	}
	checkTiming(t, after, dbHangLimit)

	// Recovery: the same Store works again (bounded wait), then keeps
	// working.
	var first result
	for range 100 { // bounded: 100 × 20 ms
		if first = ops.load(kept); first.err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if first.err != nil || !first.found {
		t.Fatalf("no recovery: %s", first)
	}

	// No torn write: each probe holds one whole version, at least the
	// last confirmed, at most the last attempted.
	for w, k := range probes {
		checkVersion(t, ops, k, confirmed[w], attempted[w])
	}
	// And everything works again, many times over.
	for i := range 5 {
		if r := ops.save(versioned(probes[0], 1000+i), false); r.err != nil {
			t.Fatalf("recovered: %s", r)
		}
		if r := a.get("/whoami", user); r.body != "1" {
			t.Fatalf("recovered: %s", r)
		}
	}
	checkVersion(t, ops, probes[0], 1004, 1004)
}

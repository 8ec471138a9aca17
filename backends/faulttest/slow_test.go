package faulttest_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
)

// slowDelay is how long the proxy holds each answer while the server is
// "slow": well past every limit of the suite.
const slowDelay = 2 * time.Second

// slowCase is one store behind the delaying proxy.
type slowCase struct {
	st    django.Store
	ops   storeOps
	a     *app
	limit time.Duration
	// clear reports whether err is the store's clear error for a server
	// that does not answer in time.
	clear func(err error) bool
	// recovery bounds how long after the delay is removed the store may
	// still fail.
	recovery time.Duration
}

// runSlow: with answers held longer than the store's timeout, every call
// fails clearly within limit (never hangs), also under concurrent traffic,
// and /whoami is an anonymous 200 that leaves the cookie alone; with the
// delay removed, calls succeed again and read back what they wrote (no
// late answer is taken for a later command's).
func runSlow(t *testing.T, p *proxy, c slowCase) {
	user := c.a.login(t)
	wantUser(t, c.a.get("/whoami", user), "1")
	kept := newKey(t)
	if r := c.ops.save(versioned(kept, 0), true); r.err != nil {
		t.Fatalf("healthy: %s", r)
	}

	p.SetDelay(slowDelay)
	slow := []result{
		c.ops.load(kept), c.ops.exists(kept), c.ops.save(record(newKey(t), "a", "b"), true),
		c.ops.save(versioned(kept, 1), false), c.ops.delete(newKey(t)),
	}
	for _, r := range slow {
		if !c.clear(r.err) {
			t.Errorf("slow server: want a clear timeout error: %s", r)
		}
	}
	who := c.a.get("/whoami", user)
	wantUser(t, who, "anonymous")
	// A write to a session that could not be loaded is not saved.
	touch := c.a.get("/touch?v=slow", user)
	if touch.err != nil || touch.status != 200 || touch.cookie != nil {
		t.Errorf("slow server: /touch with a session: want 200 without Set-Cookie, got %s", touch)
	}
	tr := startTraffic(
		func(int) result { return c.a.get("/whoami", user) },
		func(int) result { return c.ops.load(kept) },
		func(int) result { return c.ops.load(kept) },
	)
	time.Sleep(3 * c.limit / 2)
	rs := tr.Stop()
	for _, r := range rs {
		if strings.HasPrefix(r.op, "GET") {
			wantUser(t, r, "anonymous")
		} else if !c.clear(r.err) {
			t.Errorf("slow server, concurrent: want a clear timeout error: %s", r)
		}
	}
	all := append(append(slow, who, touch), rs...)
	slowest := checkTiming(t, all, c.limit)
	t.Logf("slow server: %d calls, slowest %s (limit %v)", len(all), slowest, c.limit)

	// Fast again.
	p.SetDelay(0)
	back := time.Now()
	var first result
	for range 200 { // bounded: 200 × 20 ms
		first = c.ops.load(kept)
		if first.err == nil || time.Since(back) > c.recovery+time.Second {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	lag := time.Since(back)
	if first.err != nil || !first.found {
		t.Fatalf("fast again: no recovery after %v: %s", lag.Round(time.Millisecond), first)
	}
	if lag > c.recovery {
		t.Errorf("fast again: the store recovered after %v, want within %v", lag.Round(time.Millisecond), c.recovery)
	}
	t.Logf("fast again: first successful Load %v after the delay was removed", lag.Round(time.Millisecond))
	// The session holds the version before the fault or the one whose
	// update timed out (it may have been applied), whole.
	checkVersion(t, c.ops, kept, 0, 1)
	var fast []result
	for i := range 10 {
		k := newKey(t)
		w := c.ops.save(versioned(k, i), true)
		fast = append(fast, w)
		if w.err != nil {
			t.Errorf("fast again: %s", w)
			continue
		}
		checkVersion(t, c.ops, k, i, i)
	}
	if d, found, err := c.st.Load(c.ops.ctx, user); err != nil || !found || d.Has(py.Str("touched")) {
		t.Errorf("fast again: the logged-in session: found %v, %v, touched %v; want it as it was", found, err, found && d.Has(py.Str("touched")))
	}
	fw := c.a.get("/whoami", user)
	wantUser(t, fw, "1")
	checkTiming(t, append(fast, fw), c.limit)
}

// TestSlowRedis: Redis behind a proxy that holds its answers.
func TestSlowRedis(t *testing.T) {
	requireFaults(t)
	srv := startRedis(t)
	p := newProxy(t, srv.addr)
	s := settings()
	st := openCache(t, "redis://"+p.Addr()+"/0", s)
	runSlow(t, p, slowCase{
		st: st, ops: storeOps{st: st, ctx: testCtx(t)}, a: newApp(t, st, s), limit: cacheLimit,
		clear:    func(err error) bool { return cacheDown(err, p.Addr()) },
		recovery: time.Second + cacheLimit,
	})
}

// TestSlowMemcached: memcached behind the same proxy.
func TestSlowMemcached(t *testing.T) {
	requireFaults(t)
	srv := startMemcached(t)
	p := newProxy(t, srv.addr)
	s := settings()
	st := openCache(t, "memcache://"+p.Addr(), s)
	runSlow(t, p, slowCase{
		st: st, ops: storeOps{st: st, ctx: testCtx(t)}, a: newApp(t, st, s), limit: cacheLimit,
		clear:    func(err error) bool { return cacheDown(err, p.Addr()) },
		recovery: cacheLimit,
	})
}

// TestSlowPostgres: PostgreSQL behind the proxy; the store's WithTimeout
// must bound every call, as the cache stores' read timeouts do.
//
// lib/pq does not enforce a context deadline on its own: when the context
// ends it sends a CancelRequest on a new connection and keeps blocking on
// the socket until the server's answer arrives. A server that answers
// late (or not at all, on a link that still acknowledges) therefore holds
// a call, and the request it serves, for as long as it delays, whatever
// db.WithTimeout says. Fixing it takes a read deadline on the
// connections themselves (a pq.Dialer whose connections set one before
// each Read).
func TestSlowPostgres(t *testing.T) {
	requireFaults(t)
	direct := testenv.PostgresDB(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	s := settings()
	createTable(t, direct, s)
	p := newProxy(t, u.Host)
	u.Host = p.Addr()
	st := openDB(t, u.String(), s)
	runSlow(t, p, slowCase{
		st: st, ops: storeOps{st: st, ctx: testCtx(t)}, a: newApp(t, st, s), limit: dbLimit,
		clear: func(err error) bool {
			return err != nil && strings.HasPrefix(err.Error(), "db: ") &&
				!errIsAny(err, django.ErrUpdateMissing, django.ErrCreateConflict)
		},
		recovery: dbLimit,
	})
}

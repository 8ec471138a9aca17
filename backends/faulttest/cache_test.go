package faulttest_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/django"
)

// openCache opens the store of a CACHE_URL with the suite's short limits.
func openCache(t *testing.T, url string, s *django.Settings) *cache.Store {
	t.Helper()
	st, err := cache.Open(url, s, cache.WithDialTimeout(cacheDialTimeout),
		cache.WithReadTimeout(cacheReadTimeout), cache.WithWriteTimeout(cacheWriteTimeout))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestRedisKilledAndRestarted: our own redis-server is killed under
// traffic, then restarted on the same port.
func TestRedisKilledAndRestarted(t *testing.T) {
	requireFaults(t)
	srv := startRedis(t)
	s := settings()
	// go-redis stops dialing after PoolSize failed dials and probes the
	// server once a second in the background; until a probe succeeds
	// every call fails at once with the last dial error. So the Store
	// recovers up to a second (and a dial) after the server is back.
	killAndRestart(t, srv, openCache(t, "redis://"+srv.addr+"/0", s), s, time.Second+cacheDialTimeout+slack)
}

// TestMemcachedKilledAndRestarted: the same with our own memcached.
func TestMemcachedKilledAndRestarted(t *testing.T) {
	requireFaults(t)
	srv := startMemcached(t)
	s := settings()
	// gomemcache dials on demand: the Store recovers with the first call.
	killAndRestart(t, srv, openCache(t, "memcache://"+srv.addr, s), s, slack)
}

// cacheDown reports whether err is the clear error of a dead cache server:
// ErrUnavailable, naming the server.
func cacheDown(err error, addr string) bool {
	return errors.Is(err, cache.ErrUnavailable) && strings.Contains(err.Error(), addr)
}

// killAndRestart is the scenario both cache servers go through:
//
//  1. healthy: log in over HTTP, store a session;
//  2. traffic (reads over HTTP, Load, new sessions, updates) while the
//     server is SIGKILLed: calls that ended before the kill succeeded,
//     calls that started after it fail with cache.ErrUnavailable, /whoami
//     is an anonymous 200 that neither sets nor deletes the cookie, and
//     nothing takes longer than the dial plus read timeouts (+ slack);
//  3. down: every store call and every view answers as documented;
//  4. restarted on the same port, the same Store works again within
//     recovery, and from then on every call succeeds.
func killAndRestart(t *testing.T, srv *server, st *cache.Store, s *django.Settings, recovery time.Duration) {
	ops := storeOps{st: st, ctx: testCtx(t)}
	a := newApp(t, st, s)

	// 1. Healthy.
	user := a.login(t)
	wantUser(t, a.get("/whoami", user), "1")
	kept := newKey(t)
	if r := ops.save(record(kept, "n", "0"), true); r.err != nil {
		t.Fatalf("healthy: %s", r)
	}

	// 2. Traffic, and the kill in the middle of it.
	tr := startTraffic(
		func(int) result { return a.get("/whoami", user) },
		func(int) result { return ops.load(kept) },
		func(i int) result {
			k, _ := django.NewSessionKey()
			return ops.save(record(k, "i", strconv.Itoa(i)), true)
		},
		func(i int) result { return ops.save(record(kept, "n", strconv.Itoa(i)), false) },
	)
	time.Sleep(250 * time.Millisecond)
	killStart := time.Now()
	srv.kill()
	killedAt := time.Now()
	time.Sleep(400 * time.Millisecond)
	rs := tr.Stop()

	var before, after int
	for _, r := range rs {
		isHTTP := r.status != 0 || strings.HasPrefix(r.op, "GET")
		switch {
		case r.end.Before(killStart):
			before++
			if isHTTP {
				wantUser(t, r, "1")
			} else if r.err != nil || (r.op == "Load" && !r.found) {
				t.Errorf("before the kill: %s", r)
			}
		case r.start.After(killedAt):
			after++
			if isHTTP {
				wantUser(t, r, "anonymous")
			} else if !cacheDown(r.err, srv.addr) {
				t.Errorf("after the kill, want cache.ErrUnavailable naming %s: %s", srv.addr, r)
			}
		default: // straddles the kill: either answer, never another
			if isHTTP {
				if r.err != nil || r.status != 200 || (r.body != "1" && r.body != "anonymous") || r.cookie != nil {
					t.Errorf("during the kill: %s", r)
				}
			} else if r.err != nil && !cacheDown(r.err, srv.addr) {
				t.Errorf("during the kill: %s", r)
			}
		}
	}
	if before < 4 || after < 4 {
		t.Errorf("traffic too thin to judge: %d calls before the kill, %d after", before, after)
	}
	slowest := checkTiming(t, rs, cacheLimit)
	t.Logf("traffic: %d calls (%d before the kill, %d after), slowest %s (limit %v)",
		len(rs), before, after, slowest, cacheLimit)

	// 3. Down: each store call, then each view.
	down := []result{
		ops.load(kept), ops.exists(kept), ops.save(record(newKey(t), "a", "b"), true),
		ops.save(record(kept, "n", "down"), false), ops.delete(kept),
	}
	for _, r := range down {
		if !cacheDown(r.err, srv.addr) {
			t.Errorf("server down: want cache.ErrUnavailable naming %s: %s", srv.addr, r)
		}
	}
	who := a.get("/whoami", user)
	wantUser(t, who, "anonymous")
	// A write to a session that failed to load is not saved (no cookie),
	// and the view's own answer goes out.
	touch := a.get("/touch?v=down", user)
	if touch.err != nil || touch.status != 200 || touch.cookie != nil {
		t.Errorf("server down: /touch with a session: want 200 without Set-Cookie, got %s", touch)
	}
	// A new session cannot be created: Django's exception, a 500.
	fresh := a.get("/touch?v=down", "")
	if fresh.err != nil || fresh.status != 500 || fresh.cookie != nil {
		t.Errorf("server down: /touch without a session: want 500 without Set-Cookie, got %s", fresh)
	}
	if r := a.get("/login", ""); r.err != nil || r.status != 503 || r.cookie != nil {
		t.Errorf("server down: /login: want our 503 without Set-Cookie, got %s", r)
	}
	checkTiming(t, append(down, who, touch, fresh), cacheLimit)
	logs := a.logs.String()
	for _, want := range []string{"server unavailable", "treating the request as anonymous", "not saving it"} {
		if !strings.Contains(logs, want) {
			t.Errorf("server down: the middleware's log lacks %q:\n%s", want, logs)
		}
	}

	// 4. Restart on the same port: the same Store works again, without
	// being reopened. The server kept nothing (no persistence), so the old
	// login is gone: anonymous, and the cookie is deleted as Django does.
	srv.start()
	restarted := time.Now()
	var first result
	for range 200 { // bounded: 200 × 20 ms
		first = ops.save(record(newKey(t), "a", "b"), true)
		if first.err == nil || time.Since(restarted) > recovery+time.Second {
			break
		}
		if !cacheDown(first.err, srv.addr) {
			t.Errorf("restarting: %s", first)
		}
		time.Sleep(20 * time.Millisecond)
	}
	lag := time.Since(restarted)
	if first.err != nil {
		t.Fatalf("restarted: no recovery after %v: %s", lag.Round(time.Millisecond), first)
	}
	if lag > recovery {
		t.Errorf("restarted: the Store recovered after %v, want within %v", lag.Round(time.Millisecond), recovery)
	}
	t.Logf("restarted: first successful Save %v after the server was back", lag.Round(time.Millisecond))
	up := []result{ops.save(record(newKey(t), "a", "b"), true), ops.load(kept)}
	if up[0].err != nil {
		t.Errorf("restarted: %s", up[0])
	}
	if up[1].err != nil || up[1].found {
		t.Errorf("restarted: want a miss for a session the server lost: %s", up[1])
	}
	gone := a.get("/whoami", user)
	if gone.err != nil || gone.status != 200 || gone.body != "anonymous" || gone.cookie == nil || gone.cookie.Value != "" {
		t.Errorf("restarted: /whoami with a lost session: want 200 anonymous deleting the cookie, got %s", gone)
	}
	again := a.get("/login", "")
	if again.err != nil || again.status != 200 || again.cookie == nil || again.cookie.Value == "" {
		t.Fatalf("restarted: /login: %s", again)
	}
	whoAgain := a.get("/whoami", again.cookie.Value)
	wantUser(t, whoAgain, "1")
	checkTiming(t, append(up, gone, again, whoAgain), cacheLimit)
}

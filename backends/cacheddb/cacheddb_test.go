package cacheddb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "djs-test-" + hex.EncodeToString(b[:])
}

// redisURL returns the test Redis ($DJSESSION_REDIS_URL), skipping or
// failing (DJSESSION_REQUIRE_SERVICES=1) when it does not answer.
func redisURL(t testing.TB) string {
	t.Helper()
	u := testenv.RedisURL()
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	opt.DialTimeout, opt.MaxRetries = time.Second, -1
	rc := redis.NewClient(opt)
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	testenv.Require(t, "Redis at "+testenv.Redact(u), rc.Ping(ctx).Err())
	return u
}

func adminRedis(t testing.TB, u string) *redis.Client {
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(opt)
	t.Cleanup(func() { rc.Close() })
	return rc
}

func deletePrefix(t testing.TB, rc *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys, err := collectKeys(ctx, rc, prefix+"*")
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	if len(keys) > 0 {
		rc.Del(ctx, keys...)
	}
}

func collectKeys(ctx context.Context, rc *redis.Client, pattern string) ([]string, error) {
	var keys []string
	iter := rc.Scan(ctx, 0, pattern, 500).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

// fixture is a cached_db store over a fresh SQLite database and the test
// Redis (fresh KEY_PREFIX, deleted at the end).
type fixture struct {
	st     *Store
	db     *db.Store
	cache  *cache.Store
	rc     *redis.Client
	dbURL  string
	prefix string
	logs   *testenv.LogBuffer
}

func newFixture(t testing.TB, s *django.Settings, cacheURL string, cacheOpts ...cache.Option) *fixture {
	t.Helper()
	u := cacheURL
	if u == "" {
		u = redisURL(t)
	}
	f := &fixture{dbURL: testenv.SQLiteURL(t), prefix: testPrefix(), logs: &testenv.LogBuffer{}}
	var err error
	f.st, err = Open(f.dbURL, u, s, nil, append([]cache.Option{cache.WithKeyPrefix(f.prefix)}, cacheOpts...),
		WithLogger(slog.New(slog.NewTextHandler(f.logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	f.db = f.st.DB().(*db.Store)
	f.cache = f.st.Cache()
	if err := f.db.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cacheURL == "" {
		f.rc = adminRedis(t, u)
		t.Cleanup(func() { deletePrefix(t, f.rc, f.prefix) })
	}
	t.Cleanup(func() { f.st.Close() })
	return f
}

// TestConformance runs the suite on the wall clock: the cache TTL and the
// row's expire_date must end together, as in Django. ClearExpired is
// checked by TestClearExpiredIsDB (under a fixed clock the cache would
// still hold what the database expired, and Exists asks the cache first).
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T, s *django.Settings) django.Store {
			s.Clock = nil
			return newFixture(t, s, "").st
		},
		RealTimeExpiry: true,
		NoClearExpired: true,
	})
}

func dict(kv ...string) *py.Dict {
	d := py.NewDict(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		d.SetStr(kv[i], py.Str(kv[i+1]))
	}
	return d
}

func TestPrefixAndWriteThrough(t *testing.T) {
	s, _ := storetest.Settings()
	f := newFixture(t, s, "")
	ctx := testCtx(t)
	sess := django.NewSession(ctx, f.st, s, "")
	sess.Set("user", py.Str("1"))
	if err := sess.Save(false); err != nil {
		t.Fatal(err)
	}
	key := sess.SessionKey()
	ck := f.prefix + ":1:django.contrib.sessions.cached_db" + key
	if f.cache.CacheKey(key) != ck {
		t.Fatalf("cache key %q, want %q", f.cache.CacheKey(key), ck)
	}
	ttl, err := f.rc.TTL(ctx, ck).Result()
	if err != nil || ttl < time.Duration(s.SessionCookieAge-5)*time.Second || ttl > time.Duration(s.SessionCookieAge)*time.Second {
		t.Fatalf("cache entry TTL %v, %v; want SESSION_COOKIE_AGE", ttl, err)
	}
	if ok, _ := f.db.Exists(ctx, key); !ok {
		t.Fatal("no database row")
	}
	// The cache answers first: a different value there wins.
	if err := f.cache.Set(ctx, key, dict("user", "from-cache"), 60); err != nil {
		t.Fatal(err)
	}
	d, found, err := f.st.Load(ctx, key)
	if err != nil || !found {
		t.Fatal(found, err)
	}
	if v, _ := d.GetStr("user"); !v.Equal(py.Str("from-cache")) {
		t.Fatalf("Load did not read the cache first: %s", v.Repr())
	}
	// Delete removes both.
	if err := f.st.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.rc.Exists(ctx, ck).Result(); n != 0 {
		t.Error("Delete left the cache entry")
	}
	if ok, _ := f.db.Exists(ctx, key); ok {
		t.Error("Delete left the row")
	}
}

// TestReadThrough: a cache miss reads the database and fills the cache
// for the row's remaining life (get_expiry_age(expiry=expire_date)).
func TestReadThrough(t *testing.T) {
	s, clock := storetest.Settings()
	f := newFixture(t, s, "")
	ctx := testCtx(t)
	for _, tc := range []struct {
		name   string
		expiry func(*django.Session)
		want   time.Duration
	}{
		{"default", func(*django.Session) {}, time.Duration(s.SessionCookieAge-100) * time.Second},
		{"explicit-date", func(se *django.Session) { se.SetExpiryIn(time.Hour) }, time.Hour - 100*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sess := django.NewSession(ctx, f.st, s, "")
			sess.Set("a", py.Str("b"))
			tc.expiry(sess)
			if err := sess.Save(false); err != nil {
				t.Fatal(err)
			}
			key := sess.SessionKey()
			if err := f.cache.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			clock.Advance(100 * time.Second)
			defer clock.Advance(-100 * time.Second)
			d, found, err := f.st.Load(ctx, key)
			if err != nil || !found {
				t.Fatalf("Load from the database: %v %v", found, err)
			}
			if v, _ := d.GetStr("a"); !v.Equal(py.Str("b")) {
				t.Fatalf("data %s", v.Repr())
			}
			ttl, err := f.rc.TTL(ctx, f.cache.CacheKey(key)).Result()
			_, exact := f.st.DB().(ExpiryLoader)
			if tc.name == "default" && !exact {
				// Without the row's expire_date the remaining life is
				// unknown: nothing is cached.
				if ttl != -2*time.Nanosecond && ttl != -2*time.Second {
					t.Fatalf("cache filled without knowing the expiry: TTL %v", ttl)
				}
				return
			}
			if err != nil || ttl > tc.want || ttl < tc.want-5*time.Second {
				t.Fatalf("cache filled with TTL %v (%v), want %v", ttl, err, tc.want)
			}
		})
	}
}

// TestCacheDown: with the cache unreachable, loads and saves go on with the
// database (errors logged, as Django 5.1+), but a delete fails, since a
// stale cache entry would keep a logged-out session alive.
func TestCacheDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "redis://" + l.Addr().String() + "/0"
	l.Close()
	s, _ := storetest.Settings()
	f := newFixture(t, s, dead, cache.WithDialTimeout(200*time.Millisecond))
	ctx := testCtx(t)
	sess := django.NewSession(ctx, f.st, s, "")
	sess.Set("a", py.Str("b"))
	if err := sess.Save(false); err != nil {
		t.Fatalf("save with the cache down: %v", err)
	}
	if !strings.Contains(f.logs.String(), "error saving to cache") {
		t.Errorf("cache write error not logged: %q", f.logs.String())
	}
	key := sess.SessionKey()
	d, found, err := f.st.Load(ctx, key)
	if err != nil || !found {
		t.Fatalf("load with the cache down: %v %v", found, err)
	}
	if v, _ := d.GetStr("a"); !v.Equal(py.Str("b")) {
		t.Fatalf("data %s", v.Repr())
	}
	if ok, err := f.st.Exists(ctx, key); !ok || err != nil {
		t.Fatalf("exists with the cache down: %v %v", ok, err)
	}
	if err := f.st.Delete(ctx, key); !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("delete with the cache down: %v, want ErrUnavailable", err)
	}
}

// TestClearExpiredIsDB: clear_expired deletes the database's expired rows;
// List is the database's.
func TestClearExpiredIsDB(t *testing.T) {
	s, clock := storetest.Settings()
	s.SessionCookieAge = 60
	f := newFixture(t, s, "")
	ctx := testCtx(t)
	save := func() string {
		sess := django.NewSession(ctx, f.st, s, "")
		sess.Set("a", py.Str("b"))
		if err := sess.Save(false); err != nil {
			t.Fatal(err)
		}
		return sess.SessionKey()
	}
	old := save()
	clock.Advance(61 * time.Second)
	live := save()
	if err := f.st.ClearExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.db.Exists(ctx, old); ok {
		t.Error("expired row kept")
	}
	if ok, _ := f.db.Exists(ctx, live); !ok {
		t.Error("live row removed")
	}
	var listed []string
	if err := f.st.List(ctx, func(in django.Info) error { listed = append(listed, in.SessionKey); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0] != live {
		t.Errorf("List = %v, want [%s]", listed, live)
	}
}

func TestNewRejectsMissingParts(t *testing.T) {
	s, _ := storetest.Settings()
	if _, err := New(nil, nil, s); !errors.Is(err, django.ErrImproperlyConfigured) {
		t.Fatalf("New(nil, nil): %v", err)
	}
	if _, err := Open("sqlite://:memory:", "bogus://x", s, nil, nil); err == nil {
		t.Fatal("Open with a bad CACHE_URL succeeded")
	}
	if _, err := Open("bogus://x", "redis://127.0.0.1:1/0", s, nil, nil); err == nil {
		t.Fatal("Open with a bad DATABASE_URL succeeded")
	}
}

package cache

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

func TestConformanceRedis(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"django-redis", nil},
		{"django-redis-json-zlib", []Option{WithSerializer("json"), WithCompressor("zlib")}},
		{"django-redis-msgpack-lz4", []Option{WithSerializer("msgpack"), WithCompressor("lz4")}},
		{"django", []Option{WithFormatName("django")}},
		// HerdClient values. With CACHE_HERD_TIMEOUT 0 a session is gone at
		// its expiry, as the suite expects (with more, HerdClient serves it
		// stale for a while).
		{"herd-pickle", []Option{WithHerd(0)}},
		{"herd-pickle-zlib", []Option{WithHerd(0), WithCompressor("zlib")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, storetest.Harness{
				New: func(t *testing.T, s *django.Settings) django.Store {
					st, _ := openRedis(t, s, tc.opts...)
					return st
				},
				RealTimeExpiry: true,
				NoClearExpired: true,
			})
		})
	}
}

// TestConformanceMemcached runs the suite with NoList: memcached cannot
// list keys.
func TestConformanceMemcached(t *testing.T) {
	for _, format := range []string{"pymemcache", "pylibmc"} {
		t.Run(format, func(t *testing.T) {
			storetest.Run(t, storetest.Harness{
				New: func(t *testing.T, s *django.Settings) django.Store {
					st, _ := openMemcached(t, s, WithFormatName(format))
					return st
				},
				RealTimeExpiry: true,
				NoClearExpired: true,
				NoList:         true,
			})
		})
	}
}

func record(key string, age int, kv ...string) *django.Record {
	d := py.NewDict(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		d.SetStr(kv[i], py.Str(kv[i+1]))
	}
	return &django.Record{SessionKey: key, Data: d, ExpiryAge: age}
}

// conflicts checks the create/update rules of spec §3.9.2 on any store.
func conflicts(t *testing.T, st *Store) {
	ctx := testCtx(t)
	key, _ := django.NewSessionKey()
	if err := st.Save(ctx, record(key, 60, "a", "1"), false); !errors.Is(err, django.ErrUpdateMissing) {
		t.Fatalf("update of a missing session: %v, want ErrUpdateMissing", err)
	}
	if ok, _ := st.Exists(ctx, key); ok {
		t.Fatal("a failed update created the entry")
	}
	if err := st.Save(ctx, record(key, 60, "a", "1"), true); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, record(key, 60, "a", "2"), true); !errors.Is(err, django.ErrCreateConflict) {
		t.Fatalf("create of a taken key: %v, want ErrCreateConflict", err)
	}
	d, found, err := st.Load(ctx, key)
	if err != nil || !found {
		t.Fatalf("Load: %v %v", found, err)
	}
	if v, _ := d.GetStr("a"); !v.Equal(py.Str("1")) {
		t.Fatalf("a failed create overwrote the session: %s", v.Repr())
	}
	if err := st.Save(ctx, record(key, 60, "a", "3"), false); err != nil {
		t.Fatal(err)
	}
	// Age ≤ 0 (an expiry in the past): a plain save deletes, a
	// must-create save writes nothing (django-redis, spec §7.2).
	if err := st.Save(ctx, record(key, 0, "a", "4"), false); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.Exists(ctx, key); ok {
		t.Fatal("a save with age 0 kept the entry")
	}
	if err := st.Save(ctx, record(key, -5, "a", "5"), false); !errors.Is(err, django.ErrUpdateMissing) {
		t.Fatalf("age ≤ 0 update of a missing session: %v", err)
	}
	if err := st.Save(ctx, record(key, -5, "a", "5"), true); err != nil {
		t.Fatalf("age ≤ 0 create: %v", err)
	}
	if ok, _ := st.Exists(ctx, key); ok {
		t.Fatal("a must-create save with age ≤ 0 wrote the entry")
	}
	// Concurrent creates of one key: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := st.Save(ctx, record(key, 60, "w", strings.Repeat("x", i)), true)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case !errors.Is(err, django.ErrCreateConflict):
				t.Errorf("concurrent create: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d concurrent creates won, want 1", won)
	}
}

func TestMemcachedConflicts(t *testing.T) {
	s, _ := storetest.Settings()
	st, _ := openMemcached(t, s)
	conflicts(t, st)
}

func TestRedisConflicts(t *testing.T) {
	s, _ := storetest.Settings()
	st, _ := openRedis(t, s)
	conflicts(t, st)
}

// TestRedisWire checks what lands in Redis: the key (spec §3.9.2, §6.1),
// the value in the client's format, the TTL unit (PX for django-redis, EX
// for Django's RedisCache).
func TestRedisWire(t *testing.T) {
	for _, tc := range []struct {
		format string
		want   codec.Format
	}{
		{"django-redis", codec.DjangoRedis{}},
		{"django", codec.DjangoRedisCache{}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			s, _ := storetest.Settings()
			st, prefix := openRedis(t, s, WithFormatName(tc.format), WithVersion(7))
			rc := adminRedis(t, redisURL(t))
			ctx := testCtx(t)
			key, _ := django.NewSessionKey()
			if err := st.Save(ctx, record(key, 1000, "_auth_user_id", "1"), true); err != nil {
				t.Fatal(err)
			}
			ck := prefix + ":7:django.contrib.sessions.cache" + key
			if st.CacheKey(key) != ck {
				t.Fatalf("CacheKey = %q, want %q", st.CacheKey(key), ck)
			}
			raw, err := rc.Get(ctx, ck).Bytes()
			if err != nil {
				t.Fatalf("GET %s: %v", ck, err)
			}
			d := py.NewDict(1)
			d.SetStr("_auth_user_id", py.Str("1"))
			want, _, _ := tc.want.Encode(py.DictOf(d))
			if string(raw) != string(want) {
				t.Errorf("stored %x, want %x", raw, want)
			}
			ttl, err := rc.PTTL(ctx, ck).Result()
			if err != nil || ttl <= 990*time.Second || ttl > 1000*time.Second {
				t.Errorf("PTTL = %v, %v; want about 1000 s", ttl, err)
			}
		})
	}
}

func TestMissingAndHostileKeys(t *testing.T) {
	s, _ := storetest.Settings()
	rs, _ := openRedis(t, s)
	ms, _ := openMemcached(t, s)
	ctx := testCtx(t)
	for name, st := range map[string]*Store{"redis": rs, "memcached": ms} {
		for _, key := range []string{"", "short", strings.Repeat("a", MaxSessionKeyLength+1),
			"has space in it", "ctl\x00\x01\x7fchars", strings.Repeat("é", 120)} {
			if _, found, err := st.Load(ctx, key); found || err != nil {
				t.Errorf("%s: Load(%q) = %v, %v", name, key, found, err)
			}
			if ok, err := st.Exists(ctx, key); ok || err != nil {
				t.Errorf("%s: Exists(%q) = %v, %v", name, key, ok, err)
			}
			if err := st.Delete(ctx, key); err != nil {
				t.Errorf("%s: Delete(%q) = %v", name, key, err)
			}
		}
		if err := st.Save(ctx, record("short", 60), true); !errors.Is(err, ErrInvalidSessionKey) {
			t.Errorf("%s: Save with a short key: %v", name, err)
		}
	}
	// A nil context is Background, not a panic.
	//lint:ignore SA1012 testing the nil guard
	if _, found, err := rs.Load(nil, "abcdefgh12345678"); found || err != nil { //nolint:staticcheck
		t.Errorf("Load(nil ctx) = %v, %v", found, err)
	}
	// A key Redis accepts but memcached does not (Django's memcached
	// backends raise InvalidCacheKey; the session is not found).
	key := "with space " + strings.Repeat("k", 24)
	if err := ms.Save(ctx, record(key, 60), true); !errors.Is(err, ErrInvalidSessionKey) {
		t.Errorf("memcached Save with a space in the key: %v", err)
	}
	if err := rs.Save(ctx, record(key, 60, "a", "b"), true); err != nil {
		t.Errorf("redis Save with a space in the key: %v", err)
	}
	if _, found, err := rs.Load(ctx, key); !found || err != nil {
		t.Errorf("redis Load with a space in the key: %v %v", found, err)
	}
}

// TestUndecodableIsNotFound: values Django's client would not read (bad
// pickle, another Redis type, a non-dict) are "not found", not errors.
func TestUndecodableIsNotFound(t *testing.T) {
	s, _ := storetest.Settings()
	st, _ := openRedis(t, s)
	rc := adminRedis(t, redisURL(t))
	ctx := testCtx(t)
	for i, raw := range [][]byte{[]byte("\x80\x04garbage"), []byte("42"), {0x80, 0x05, 0x88, 0x2e}, []byte("not a pickle")} {
		key, _ := django.NewSessionKey()
		if err := rc.Set(ctx, st.CacheKey(key), raw, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		if d, found, err := st.Load(ctx, key); found || err != nil {
			t.Errorf("%d: Load(%x) = %v, %v, %v", i, raw, d, found, err)
		}
	}
	key, _ := django.NewSessionKey()
	if err := rc.HSet(ctx, st.CacheKey(key), "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if _, found, err := st.Load(ctx, key); found || err != nil {
		t.Errorf("a hash under the key: %v, %v", found, err)
	}
	// The listing shows such entries with nil Data.
	seen := false
	err := st.List(ctx, func(in django.Info) error {
		if in.Data == nil {
			seen = true
		}
		return nil
	})
	if err != nil || !seen {
		t.Errorf("List: undecodable entries listed with nil Data: %v, err %v", seen, err)
	}
}

func TestMemcachedList(t *testing.T) {
	s, _ := storetest.Settings()
	st, _ := openMemcached(t, s)
	err := st.List(testCtx(t), func(django.Info) error { return nil })
	if !errors.Is(err, django.ErrNotSupported) || !strings.Contains(err.Error(), "memcached cannot list") {
		t.Fatalf("List on memcached: %v", err)
	}
}

// TestListSkipsCachedDB: the cache prefix is a prefix of cached_db's, so
// the scan pattern matches both; the cache store lists only its own.
func TestListSkipsCachedDB(t *testing.T) {
	s, _ := storetest.Settings()
	u := redisURL(t)
	prefix := testPrefix()
	mk := func(p string) *Store {
		st, err := Open(u, s, WithKeyPrefix(prefix), WithSessionPrefix(p))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	c, cdb := mk(codec.SessionCachePrefix), mk(codec.CachedDBPrefix)
	rc := adminRedis(t, u)
	t.Cleanup(func() { deletePrefix(t, rc, prefix) })
	ctx := testCtx(t)
	k1, _ := django.NewSessionKey()
	k2, _ := django.NewSessionKey()
	if err := c.Save(ctx, record(k1, 60), true); err != nil {
		t.Fatal(err)
	}
	if err := cdb.Save(ctx, record(k2, 60), true); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		st   *Store
		want string
	}{{c, k1}, {cdb, k2}} {
		var got []string
		if err := tc.st.List(ctx, func(in django.Info) error {
			got = append(got, in.SessionKey)
			if in.ExpireDate.Before(s.Now().Add(50*time.Second)) || in.ExpireDate.After(s.Now().Add(61*time.Second)) {
				t.Errorf("ExpireDate %v, want about now+60s", in.ExpireDate)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s lists %v, want [%s]", tc.st.SessionPrefix(), got, tc.want)
		}
	}
}

// TestKeyPrefixEscaped: glob characters in KEY_PREFIX are escaped in the
// SCAN pattern (django-redis make_pattern, spec §7.1), so a prefix "a*"
// does not list another prefix's sessions.
func TestKeyPrefixEscaped(t *testing.T) {
	s, _ := storetest.Settings()
	u := redisURL(t)
	base := testPrefix()
	rc := adminRedis(t, u)
	t.Cleanup(func() { deletePrefix(t, rc, base) })
	ctx := testCtx(t)
	open := func(p string) *Store {
		st, err := Open(u, s, WithKeyPrefix(p))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	star, other := open(base+"[x]*?"), open(base+"[x]Zq")
	k1, _ := django.NewSessionKey()
	k2, _ := django.NewSessionKey()
	if err := star.Save(ctx, record(k1, 60), true); err != nil {
		t.Fatal(err)
	}
	if err := other.Save(ctx, record(k2, 60), true); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := star.List(ctx, func(in django.Info) error { got = append(got, in.SessionKey); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != k1 {
		t.Fatalf("listed %v, want [%s]", got, k1)
	}
}

func TestCustomKeyFunc(t *testing.T) {
	s, _ := storetest.Settings()
	rev := func(key, prefix string, version int) string {
		return "v" + string(rune('0'+version)) + "|" + prefix + "|" + key
	}
	st, prefix := openRedis(t, s, WithKeyFunc(rev))
	ctx := testCtx(t)
	key, _ := django.NewSessionKey()
	if got := st.CacheKey(key); got != "v1|"+prefix+"|django.contrib.sessions.cache"+key {
		t.Fatalf("CacheKey = %q", got)
	}
	if err := st.Save(ctx, record(key, 60, "a", "b"), true); err != nil {
		t.Fatal(err)
	}
	if _, found, err := st.Load(ctx, key); !found || err != nil {
		t.Fatalf("Load: %v %v", found, err)
	}
	rc := adminRedis(t, redisURL(t))
	t.Cleanup(func() { rc.Del(ctx, st.CacheKey(key)) })
	// A key function that does not end with the key cannot be listed.
	hashed, _ := openRedis(t, s, WithKeyFunc(func(key, prefix string, version int) string { return key + "@" + prefix }))
	if err := hashed.List(ctx, func(django.Info) error { return nil }); !errors.Is(err, django.ErrNotSupported) {
		t.Fatalf("List with a non-suffix key function: %v", err)
	}
}

// TestMemcachedLongTTL: memcached reads an expiration over 30 days as a
// Unix time, so Django sends now + timeout (get_backend_timeout); a
// relative 40-day value would expire at once.
func TestMemcachedLongTTL(t *testing.T) {
	s, _ := storetest.Settings()
	st, _ := openMemcached(t, s)
	ctx := testCtx(t)
	key, _ := django.NewSessionKey()
	if err := st.Save(ctx, record(key, 40*24*3600, "a", "b"), true); err != nil {
		t.Fatal(err)
	}
	if _, found, err := st.Load(ctx, key); !found || err != nil {
		t.Fatalf("a 40-day session is gone: %v %v", found, err)
	}
	mc := &memcacheClient{now: func() time.Time { return time.Unix(1700000000, 0) }}
	for _, tc := range []struct {
		ttl  time.Duration
		want int32
	}{
		{time.Second, 1}, {1500 * time.Millisecond, 2}, {30 * 24 * time.Hour, 2592000},
		{30*24*time.Hour + time.Second, 1700000000 + 2592001}, {1 << 62, 1<<31 - 1},
	} {
		if got := mc.expiration(tc.ttl); got != tc.want {
			t.Errorf("expiration(%v) = %d, want %d", tc.ttl, got, tc.want)
		}
	}
}

package cacheddb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/djsession/djsession/backends"
	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/backends/cache/dbcache"
	"github.com/djsession/djsession/backends/cacheddb"
	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

// TestBackendsOpen: the cache and cached_db engines are registered in
// backends.Open, with the CLI's cache options applied.
func TestBackendsOpen(t *testing.T) {
	s, _ := storetest.Settings()
	ctx := context.Background()
	for _, engine := range []string{"cache", "django.contrib.sessions.backends.cached_db"} {
		st, closer, err := backends.Open(ctx, backends.Config{
			Engine: engine, Settings: s,
			DatabaseURL: testenv.SQLiteURL(t), CacheURL: "redis://127.0.0.1:1/0?key_prefix=url",
			Cache: backends.CacheOptions{Format: "django", KeyPrefix: "cli", Version: 4},
		})
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		var cs *cache.Store
		switch x := st.(type) {
		case *cache.Store:
			cs = x
		case *cacheddb.Store:
			cs = x.Cache()
		default:
			t.Fatalf("%s: store %T", engine, st)
		}
		want := "cli:4:django.contrib.sessions.cache"
		if engine != "cache" {
			want += "d_db"
		}
		if got := cs.CacheKey(""); got != want {
			t.Errorf("%s: cache key %q, want %q", engine, got, want)
		}
		if _, ok := cs.Format().(codec.DjangoRedisCache); !ok {
			t.Errorf("%s: format %T, want Django's RedisCache", engine, cs.Format())
		}
		if err := closer.Close(); err != nil {
			t.Error(err)
		}
	}
	if _, _, err := backends.Open(ctx, backends.Config{Engine: "cache", Settings: s, CacheURL: "nope"}); err == nil {
		t.Error("a bad CACHE_URL opened")
	}
	var _ django.Store = (*cacheddb.Store)(nil)
}

// TestBackendsOpenDatabaseCache: a dbcache:// CACHE_URL is a table in
// DATABASE_URL's database, for the cache engine and as cached_db's cache;
// without a DATABASE_URL the cache engine cannot open it.
func TestBackendsOpenDatabaseCache(t *testing.T) {
	s, _ := storetest.Settings()
	ctx := context.Background()
	dbURL := testenv.SQLiteURL(t)
	setup, err := dbcache.Open(dbURL, "djs_cache", s, dbcache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := setup.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	if st, err := cache.New(setup, s); err != nil {
		t.Fatal(err)
	} else if _, ok := st.Format().(codec.DjangoPickle); !ok {
		t.Errorf("cache.New over a dbcache client: format %T, want DjangoPickle", st.Format())
	}
	sessions, err := db.Open(dbURL, s)
	if err != nil {
		t.Fatal(err)
	}
	defer sessions.Close()
	if err := sessions.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	for _, engine := range []string{"cache", "cached_db"} {
		st, closer, err := backends.Open(ctx, backends.Config{
			Engine: engine, Settings: s, DatabaseURL: dbURL, CacheURL: "dbcache://djs_cache?max_entries=1000",
		})
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		key, _ := django.NewSessionKey()
		data := py.NewDict(1)
		data.SetStr("engine", py.Str(engine))
		if err := st.Save(ctx, &django.Record{SessionKey: key, Data: data, ExpiryAge: 600, ExpireDate: s.Now().Add(600 * time.Second)}, true); err != nil {
			t.Fatalf("%s: save: %v", engine, err)
		}
		// The entry is in the cache table, under the engine's cache key.
		ck := ":1:django.contrib.sessions.cache" + key
		if engine == "cached_db" {
			ck = ":1:django.contrib.sessions.cached_db" + key
		}
		it, found, err := setup.Get(ctx, ck)
		if err != nil || !found {
			t.Fatalf("%s: cache row %q: %v %v", engine, ck, found, err)
		}
		if v, err := (codec.DjangoPickle{}).Decode(it.Value, 0); err != nil || !v.Equal(py.DictOf(data)) {
			t.Errorf("%s: cache row holds %v, %v", engine, v, err)
		}
		// cached_db also wrote the session row; the cache engine did not.
		_, inDB, err := sessions.Load(ctx, key)
		if err != nil || inDB != (engine == "cached_db") {
			t.Errorf("%s: session row present = %v (%v)", engine, inDB, err)
		}
		got, ok, err := st.Load(ctx, key)
		if err != nil || !ok || !py.DictOf(got).Equal(py.DictOf(data)) {
			t.Errorf("%s: load = %v %v %v", engine, got, ok, err)
		}
		if err := closer.Close(); err != nil {
			t.Error(err)
		}
	}
	if _, _, err := backends.Open(ctx, backends.Config{Engine: "cache", Settings: s, CacheURL: "dbcache://djs_cache"}); !errors.Is(err, django.ErrImproperlyConfigured) {
		t.Errorf("dbcache without a DATABASE_URL: %v, want ErrImproperlyConfigured", err)
	}
}

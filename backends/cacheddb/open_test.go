package cacheddb_test

import (
	"context"
	"testing"

	"github.com/djsession/djsession/backends"
	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/backends/cacheddb"
	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
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

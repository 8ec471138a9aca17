package cache

import (
	"context"
	"encoding/json"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

// benchSession is a typical logged-in session.
func benchSession() *py.Dict {
	d := py.NewDict(4)
	d.SetStr("_auth_user_id", py.Str("12345"))
	d.SetStr("_auth_user_backend", py.Str("django.contrib.auth.backends.ModelBackend"))
	d.SetStr("_auth_user_hash", py.Str("3f1c8e0a9b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e"))
	d.SetStr("_csrftoken", py.Str("Q2x9cJ8VbZk1m3n5p7r9t1v3x5z7B9D1F3H5J7L9N1P3R5T7V9X1Z3b5d7f9h1j3"))
	return d
}

type benchTarget struct {
	name string
	open func(b *testing.B, s *django.Settings, opts ...Option) *Store
}

var benchTargets = []benchTarget{
	{"redis", func(b *testing.B, s *django.Settings, opts ...Option) *Store {
		st, _ := openRedis(b, s, opts...)
		return st
	}},
	{"redis-json", func(b *testing.B, s *django.Settings, opts ...Option) *Store {
		st, _ := openRedis(b, s, append(opts, WithSerializer("json"))...)
		return st
	}},
	{"memcached", func(b *testing.B, s *django.Settings, opts ...Option) *Store {
		st, _ := openMemcached(b, s, opts...)
		return st
	}},
	// Django's FileBasedCache on the test's temporary folder (culling off:
	// the benchmarks keep more sessions than MAX_ENTRIES).
	{"filecache", func(b *testing.B, s *django.Settings, opts ...Option) *Store {
		c := newFileClient(b, filepath.Join(b.TempDir(), "cache"), FileOptions{MaxEntries: 1 << 30, Now: s.Now})
		st, err := New(c, s, append([]Option{WithFormat(codec.DjangoPickle{})}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}},
}

// benchKeys stores n sessions and returns their keys.
func benchKeys(b *testing.B, st *Store, n int) []string {
	ctx := context.Background()
	keys := make([]string, n)
	for i := range keys {
		keys[i], _ = django.NewSessionKey()
		if err := st.Save(ctx, &django.Record{SessionKey: keys[i], Data: benchSession(), ExpiryAge: 3600}, true); err != nil {
			b.Fatal(err)
		}
	}
	return keys
}

// BenchmarkLoad is Store.Load of a stored session: key, GET, decode.
func BenchmarkLoad(b *testing.B) {
	for _, tg := range benchTargets {
		b.Run(tg.name, func(b *testing.B) {
			s, _ := storetest.Settings()
			st := tg.open(b, s)
			keys := benchKeys(b, st, 64)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				if _, found, err := st.Load(ctx, keys[i%len(keys)]); err != nil || !found {
					b.Fatal(found, err)
				}
				i++
			}
		})
	}
}

// BenchmarkBareGet is a plain GET of the same entries through the same
// client: the floor Load is measured against.
func BenchmarkBareGet(b *testing.B) {
	for _, tg := range benchTargets {
		b.Run(tg.name, func(b *testing.B) {
			s, _ := storetest.Settings()
			st := tg.open(b, s)
			keys := benchKeys(b, st, 64)
			cks := make([]string, len(keys))
			for i, k := range keys {
				cks[i] = st.CacheKey(k)
			}
			ctx := context.Background()
			c := st.Client()
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				if _, found, err := c.Get(ctx, cks[i%len(cks)]); err != nil || !found {
					b.Fatal(found, err)
				}
				i++
			}
		})
	}
}

// benchParallel64 runs fn from 64 goroutines.
func benchParallel64(b *testing.B, fn func(i int) error) {
	b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if err := fn(i); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkLoadParallel64 is Load from 64 goroutines (pool of 64
// connections), against BareGetParallel64.
func BenchmarkLoadParallel64(b *testing.B) {
	for _, tg := range benchTargets {
		b.Run(tg.name, func(b *testing.B) {
			s, _ := storetest.Settings()
			st := tg.open(b, s, WithPoolSize(64))
			keys := benchKeys(b, st, 64)
			ctx := context.Background()
			benchParallel64(b, func(i int) error {
				_, _, err := st.Load(ctx, keys[i%len(keys)])
				return err
			})
		})
	}
}

// BenchmarkBareGetParallel64 is the plain GET from 64 goroutines.
func BenchmarkBareGetParallel64(b *testing.B) {
	for _, tg := range benchTargets {
		b.Run(tg.name, func(b *testing.B) {
			s, _ := storetest.Settings()
			st := tg.open(b, s, WithPoolSize(64))
			keys := benchKeys(b, st, 64)
			ctx := context.Background()
			c := st.Client()
			benchParallel64(b, func(i int) error {
				_, _, err := c.Get(ctx, st.CacheKey(keys[i%len(keys)]))
				return err
			})
		})
	}
}

// BenchmarkDjangoLoad times Django 3.2's SessionStore(key).load() with
// django-redis 5.2 (pickle) on the same Redis and sessions, in one Python
// process (timeit, best of 5), and reports that as its ns/op; compare with
// BenchmarkLoad/redis.
// djangoLoadNs caches the Python timing: the framework calls the benchmark
// several times while it sizes b.N.
var djangoLoadNs struct {
	once sync.Once
	ns   int
}

func BenchmarkDjangoLoad(b *testing.B) {
	djangoLoadNs.once.Do(func() { djangoLoadNs.ns = timeDjangoLoad(b) })
	if djangoLoadNs.ns <= 0 {
		b.Skip("no Django timing")
	}
	// The Python timing replaces ns/op; b.N is meaningless here.
	for b.Loop() {
	}
	b.ReportMetric(float64(djangoLoadNs.ns), "ns/op")
}

func timeDjangoLoad(b *testing.B) int {
	s, _ := storetest.Settings()
	st, prefix := openRedis(b, s)
	keys := benchKeys(b, st, 64)
	caches, _ := json.Marshal(map[string]any{"default": map[string]any{
		"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redisURL(b), "KEY_PREFIX": prefix}})
	res := runDjango(b, []string{"SESSION_ENGINE=cache", "DJS_CACHES=" + string(caches)}, []map[string]any{{
		"op": "eval", "input": map[string]any{"keys": keys, "number": 5000},
		"code": `
import timeit
from importlib import import_module
S = import_module("django.contrib.sessions.backends.cache").SessionStore
keys = input["keys"]
assert all(S(k).load() for k in keys), "sessions not found"
st = {"i": 0}
def load():
    st["i"] = (st["i"] + 1) % len(keys)
    S(keys[st["i"]]).load()
n = input["number"]
result = int(min(timeit.repeat(load, number=n, repeat=5)) / n * 1e9)
`}})
	var out struct{ Result int }
	if err := json.Unmarshal(res[0], &out); err != nil || out.Result <= 0 {
		b.Fatalf("django timing %s: %v", res[0], err)
	}
	b.Logf("Django 3.2 + django-redis 5.2 SessionStore(key).load(): %s ns", strconv.Itoa(out.Result))
	return out.Result
}

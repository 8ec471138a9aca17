package middleware_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/auth"
	"github.com/djsession/djsession/django/middleware"
)

// cpuTime returns the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRedisRequest measures, on a real Redis on loopback with 16
// concurrent requests, the CPU per request of (a) a handler that does the
// store round trip alone (a bare GET of the session's cache key through
// the same client: the floor) and (b) the same handler behind the session
// and auth middleware, loading that session and verifying its login. The
// difference of their cpu-ns/op is the middleware's own cost per request.
func BenchmarkRedisRequest(b *testing.B) {
	s := django.DefaultSettings("bench-secret")
	prefix := make([]byte, 6)
	rand.Read(prefix)
	st, err := cache.Open(testenv.RedisURL(), s, cache.WithKeyPrefix("bench"+hex.EncodeToString(prefix)))
	if err != nil {
		b.Skip(err)
	}
	defer st.Close()
	ctx := context.Background()
	if _, err := st.Exists(ctx, "probe0000000000"); err != nil {
		testenv.Require(b, "Redis", err)
	}
	u := &auth.User{ID: "1", Password: "pbkdf2_sha256$1200000$salt$hash=", IsActive: true}
	sess := django.NewSession(ctx, st, s, "")
	for _, e := range loggedIn(s, u).Entries() {
		k, _ := e.Key.Str()
		sess.Set(k, e.Value)
	}
	if err := sess.Save(false); err != nil {
		b.Fatal(err)
	}
	key := sess.SessionKey()
	defer st.Delete(ctx, key)
	cacheKey := st.CacheKey(key)
	users := auth.UserLoaderFunc(func(context.Context, string) (*auth.User, error) { c := *u; return &c, nil })

	run := func(b *testing.B, h http.Handler) {
		b.ReportAllocs()
		b.SetParallelism(8) // 16 goroutines on 2 cores
		c0 := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			req := benchRequest()
			req.AddCookie(&http.Cookie{Name: "sessionid", Value: key})
			w := &nopWriter{h: http.Header{}}
			for pb.Next() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
		b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
	}
	b.Run("bare-get", func(b *testing.B) {
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, found, err := st.Client().Get(r.Context(), cacheKey); err != nil || !found {
				b.Errorf("bare GET: found %v, %v", found, err)
			}
			w.Write([]byte("ok"))
		}))
	})
	b.Run("middleware", func(b *testing.B) {
		m := &middleware.Sessions{Store: st, Settings: s}
		a := &middleware.Auth{Config: &auth.Config{Settings: s, Users: users}}
		run(b, m.Handler(a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if middleware.User(r) == nil {
				b.Error("not authenticated")
			}
			w.Write([]byte("ok"))
		}))))
	})
}

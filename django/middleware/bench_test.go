package middleware_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/auth"
	"github.com/djsession/djsession/django/middleware"
	"github.com/djsession/djsession/pickle/py"
)

// memoryStore answers Load from memory, so the benchmarks below measure the
// middleware's own cost per request, without the store round trip.
type memoryStore struct {
	django.Store
	data *py.Dict
}

func (m *memoryStore) Load(context.Context, string) (*py.Dict, bool, error) {
	return m.data.Clone(), true, nil
}

const benchKey = "abcdefghijklmnopqrstuvwxyz012345"

func benchRequest() *http.Request {
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "sessionid", Value: benchKey})
	return req
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

func runBench(b *testing.B, h http.Handler) {
	req := benchRequest()
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })

// BenchmarkBaseline is the handler alone.
func BenchmarkBaseline(b *testing.B) { runBench(b, okHandler) }

func loggedIn(s *django.Settings, u *auth.User) *py.Dict {
	d := py.NewDict(4)
	d.SetStr(django.AuthUserIDKey, py.Str(u.ID))
	d.SetStr(django.AuthBackendKey, py.Str(auth.ModelBackend))
	d.SetStr(django.AuthHashKey, py.Str(auth.SessionAuthHash(u.Password, s.SecretKey, "sha256")))
	d.SetStr("cart", py.NewList(py.Int(1), py.Int(2)))
	return d
}

// BenchmarkSessionRead: the session middleware, the handler reading one
// key of a loaded session (the load itself answered from memory).
func BenchmarkSessionRead(b *testing.B) {
	s := django.DefaultSettings("bench-secret")
	u := &auth.User{ID: "1", Password: "pbkdf2_sha256$1200000$salt$hash=", IsActive: true}
	m := &middleware.Sessions{Store: &memoryStore{data: loggedIn(s, u)}, Settings: s}
	runBench(b, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		middleware.Session(r).Get("cart")
		w.Write([]byte("ok"))
	})))
}

// BenchmarkSessionAuth: session and auth middleware, the handler asking
// for the verified user (user row from memory, hash checked as Django does).
func BenchmarkSessionAuth(b *testing.B) {
	s := django.DefaultSettings("bench-secret")
	u := &auth.User{ID: "1", Password: "pbkdf2_sha256$1200000$salt$hash=", IsActive: true}
	m := &middleware.Sessions{Store: &memoryStore{data: loggedIn(s, u)}, Settings: s}
	a := &middleware.Auth{Config: &auth.Config{Settings: s, Users: auth.UserLoaderFunc(func(context.Context, string) (*auth.User, error) {
		c := *u
		return &c, nil
	})}}
	runBench(b, m.Handler(a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if middleware.User(r) == nil {
			b.Fatal("not authenticated")
		}
		w.Write([]byte("ok"))
	}))))
}

package db_test

// Benchmarks of the hot paths against each database, next to the floor:
// BenchmarkBareSelect is the one query Load must run, through the same
// driver and pool, without the expiry condition or the decoding. The goal
// is Load within 1.3x of it. Django's own load() on the same testenv.Databases is
// timed by TestDjangoLoadTiming (djs.py time_load).

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest"
	"github.com/djsession/djsession/pickle/py"
)

const benchKeys = 64

// benchSession is a logged-in session as django.contrib.auth.login leaves
// it, with a little application data (about 200 bytes of JSON).
func benchSession() *py.Dict {
	d := py.NewDict(4)
	d.SetStr(django.AuthUserIDKey, py.Str("42"))
	d.SetStr(django.AuthBackendKey, py.Str("django.contrib.auth.backends.ModelBackend"))
	d.SetStr(django.AuthHashKey, py.Str("f623faabdde81d502de01cd248edbc77a88b2cba55a0439639728ea62c7abf2a"))
	d.SetStr("cart", py.NewList(py.Int(1), py.Int(2), py.Str("three")))
	return d
}

// benchStore opens a store on a fresh database (durable settings, as in
// production) holding benchKeys sessions, and returns it with their keys.
func benchStore(b *testing.B, d testenv.Database) (*db.Store, []string) {
	b.Helper()
	s := django.DefaultSettings("bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
	st, err := db.Open(d.URL(b), s)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.CreateTable(ctx); err != nil {
		b.Fatal(err)
	}
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("benchkey%024d", i)
		rec := &django.Record{SessionKey: keys[i], Data: benchSession(), ExpireDate: s.Now().Add(time.Hour)}
		if err := st.Save(ctx, rec, true); err != nil {
			b.Fatal(err)
		}
	}
	return st, keys
}

func BenchmarkLoad(b *testing.B) {
	for _, d := range testenv.Databases {
		b.Run(d.Name, func(b *testing.B) {
			st, keys := benchStore(b, d)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, found, err := st.Load(ctx, keys[i%benchKeys]); err != nil || !found {
					b.Fatalf("found %v, err %v", found, err)
				}
			}
		})
	}
}

func BenchmarkBareSelect(b *testing.B) {
	for _, d := range testenv.Databases {
		b.Run(d.Name, func(b *testing.B) {
			st, keys := benchStore(b, d)
			stmt := bareSelect(b, st)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				var data string
				if err := stmt.QueryRowContext(ctx, keys[i%benchKeys]).Scan(&data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLoadParallel(b *testing.B) {
	for _, d := range testenv.Databases {
		b.Run(d.Name, func(b *testing.B) {
			st, keys := benchStore(b, d)
			ctx := context.Background()
			var n atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(n.Add(1))
				for pb.Next() {
					i++
					if _, found, err := st.Load(ctx, keys[i%benchKeys]); err != nil || !found {
						b.Errorf("found %v, err %v", found, err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkBareSelectParallel(b *testing.B) {
	for _, d := range testenv.Databases {
		b.Run(d.Name, func(b *testing.B) {
			st, keys := benchStore(b, d)
			stmt := bareSelect(b, st)
			ctx := context.Background()
			var n atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(n.Add(1))
				for pb.Next() {
					i++
					var data string
					if err := stmt.QueryRowContext(ctx, keys[i%benchKeys]).Scan(&data); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkSave(b *testing.B) {
	for _, d := range testenv.Databases {
		b.Run(d.Name, func(b *testing.B) {
			st, keys := benchStore(b, d)
			ctx := context.Background()
			data := benchSession()
			exp := time.Now().Add(time.Hour)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				rec := &django.Record{SessionKey: keys[i%benchKeys], Data: data, ExpireDate: exp}
				if err := st.Save(ctx, rec, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// bareSelect prepares the floor query on the store's pool.
func bareSelect(b *testing.B, st *db.Store) *sql.Stmt {
	b.Helper()
	ph := "?"
	if st.Dialect() == db.PostgreSQL {
		ph = "$1"
	}
	stmt, err := st.DB().Prepare("SELECT session_data FROM django_session WHERE session_key = " + ph)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stmt.Close() })
	return stmt
}

// TestDjangoLoadTiming times Django's own SessionStore(key).load() and its
// bare SELECT on fresh testenv.Databases, for comparison with BenchmarkLoad and
// BenchmarkBareSelect. It is a measurement, not a check: it runs only with
// DJSESSION_DJANGO_TIMING=1 and logs the figures (go test -v).
func TestDjangoLoadTiming(t *testing.T) {
	if os.Getenv("DJSESSION_DJANGO_TIMING") != "1" {
		t.Skip("set DJSESSION_DJANGO_TIMING=1 to time Django's load() (a measurement, not a test)")
	}
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			env := djangotest.Env{"DJANGO_SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz", "DATABASE_URL": d.URL(t)}
			r := djangotest.Run(t, env, "time_load", map[string]any{"migrate": true, "count": benchKeys})
			var out struct {
				LoadNS   int64 `json:"load_ns"`
				SelectNS int64 `json:"select_ns"`
			}
			if err := r.Decode(&out); err != nil {
				t.Fatal(err)
			}
			t.Logf("django %s: SessionStore(key).load() %d ns/op, bare SELECT %d ns/op", d.Name, out.LoadNS, out.SelectNS)
		})
	}
}

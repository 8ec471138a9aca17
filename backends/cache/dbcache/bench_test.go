package dbcache

import (
	"context"
	"testing"

	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

// benchSessions stores n typical logged-in sessions through st and returns
// their keys.
func benchSessions(b *testing.B, st django.Store, n int) []string {
	b.Helper()
	keys := make([]string, n)
	for i := range keys {
		d := py.NewDict(3)
		d.SetStr("_auth_user_id", py.Str("12345"))
		d.SetStr("_auth_user_backend", py.Str("django.contrib.auth.backends.ModelBackend"))
		d.SetStr("_auth_user_hash", py.Str("3f1c8e0a9b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e"))
		keys[i], _ = django.NewSessionKey()
		if err := st.Save(context.Background(), &django.Record{SessionKey: keys[i], Data: d, ExpiryAge: 3600}, true); err != nil {
			b.Fatal(err)
		}
	}
	return keys
}

// BenchmarkLoad is the cache session Store's Load over a DatabaseCache
// table on each database (loopback), next to BenchmarkBareSelect.
func BenchmarkLoad(b *testing.B) {
	for _, d := range testenv.Databases {
		b.Run(d.Name, func(b *testing.B) {
			s, _ := storetest.Settings()
			st := store(b, newFixture(b, d).client(b, s, Options{MaxEntries: 1 << 30}), s)
			keys := benchSessions(b, st, 64)
			ctx := context.Background()
			b.ReportAllocs()
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

// BenchmarkBareSelect is SELECT value FROM table WHERE cache_key = ? for
// the same rows through the same driver: the floor of BenchmarkLoad.
func BenchmarkBareSelect(b *testing.B) {
	for _, d := range testenv.Databases {
		b.Run(d.Name, func(b *testing.B) {
			s, _ := storetest.Settings()
			c := newFixture(b, d).client(b, s, Options{MaxEntries: 1 << 30})
			st := store(b, c, s)
			keys := benchSessions(b, st, 64)
			q := "SELECT " + c.Dialect().Quote("value") + " FROM " + c.Dialect().Quote(c.Table()) +
				" WHERE " + c.Dialect().Quote("cache_key") + " = " + c.Dialect().Placeholder(1)
			stmt, err := c.DB().Prepare(q)
			if err != nil {
				b.Fatal(err)
			}
			defer stmt.Close()
			cks := make([]string, len(keys))
			for i, k := range keys {
				cks[i] = st.CacheKey(k)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				var v string
				if err := stmt.QueryRow(cks[i%len(cks)]).Scan(&v); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

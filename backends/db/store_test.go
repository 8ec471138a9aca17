package db_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing"
)

// fixture is one fresh database shared by the stores of a test, each store
// on a table of its own: creating a database costs seconds on PostgreSQL,
// a table milliseconds.
type fixture struct {
	d   testenv.Database
	url string
}

func newFixture(t testing.TB, d testenv.Database) *fixture {
	t.Helper()
	return &fixture{d: d, url: d.FastURL(t)}
}

var tableSeq atomic.Int64

// store opens a store on a new table (named table + a sequence number),
// created with CreateTable and closed when the test ends.
func (f *fixture) store(t testing.TB, s *django.Settings, table string, opts ...db.Option) *db.Store {
	t.Helper()
	name := fmt.Sprintf("%s%d", table, tableSeq.Add(1))
	st, err := db.Open(f.url, s, append([]db.Option{db.WithTable(name)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// openStore opens a store on a fresh database.
func openStore(t testing.TB, d testenv.Database, s *django.Settings, opts ...db.Option) *db.Store {
	t.Helper()
	return newFixture(t, d).store(t, s, "django_session", opts...)
}

func TestConformance(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			f := newFixture(t, d)
			storetest.Run(t, storetest.Harness{
				New: func(t *testing.T, s *django.Settings) django.Store { return f.store(t, s, "django_session") },
			})
		})
	}
	t.Run("sqlite-memory", func(t *testing.T) {
		storetest.Run(t, storetest.Harness{
			New: func(t *testing.T, s *django.Settings) django.Store {
				st, err := db.Open("sqlite://:memory:", s)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				if err := st.CreateTable(context.Background()); err != nil {
					t.Fatal(err)
				}
				return st
			},
		})
	})
}

// TestConformanceUnprepared runs the suite without prepared statements.
func TestConformanceUnprepared(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			f := newFixture(t, d)
			storetest.Run(t, storetest.Harness{
				New: func(t *testing.T, s *django.Settings) django.Store {
					return f.store(t, s, "django_session", db.WithPreparedStatements(false))
				},
			})
		})
	}
}

// TestCustomTable runs the suite on a custom session model's table, whose
// name needs quoting.
func TestCustomTable(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			f := newFixture(t, d)
			storetest.Run(t, storetest.Harness{
				New: func(t *testing.T, s *django.Settings) django.Store {
					return f.store(t, s, `my"app_sess`+"`ion")
				},
			})
		})
	}
}

// TestHostileKeys: keys no session can have are "not found" without an
// error, whatever the database would make of them.
func TestHostileKeys(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			s, _ := storetest.Settings()
			st := openStore(t, d, s)
			ctx := context.Background()
			for _, key := range []string{"", "short", strings.Repeat("a", 41), "abcdefgh\x00ijk", "abcdefgh\xffijk",
				"abcdéfghijk", "abc defgh", "x' OR '1'='1", strings.Repeat("z", 1<<20)} {
				if d, found, err := st.Load(ctx, key); err != nil || found || d != nil {
					t.Errorf("Load(%.20q) = %v, %v, %v", key, d, found, err)
				}
				if ok, err := st.Exists(ctx, key); err != nil || ok {
					t.Errorf("Exists(%.20q) = %v, %v", key, ok, err)
				}
				if err := st.Delete(ctx, key); err != nil {
					t.Errorf("Delete(%.20q) = %v", key, err)
				}
			}
		})
	}
}

// TestTamperedRowIsNotFound: a row whose session_data does not verify is
// "not found", as Django's decode gives {} (spec §3.6).
func TestTamperedRowIsNotFound(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			s, _ := storetest.Settings()
			st := openStore(t, d, s)
			ctx := context.Background()
			sess := django.NewSession(ctx, st, s, "")
			sess.Set("a", py.Int(1))
			if err := sess.Save(false); err != nil {
				t.Fatal(err)
			}
			key := sess.SessionKey()
			// The same row read with another SECRET_KEY.
			other := *s
			other.SecretKey = "another-secret-key"
			st2, err := db.New(st.DB(), st.Dialect(), &other, db.WithTable(st.Table()))
			if err != nil {
				t.Fatal(err)
			}
			if _, found, err := st2.Load(ctx, key); err != nil || found {
				t.Fatalf("Load with the wrong SECRET_KEY: found %v, err %v", found, err)
			}
			var infos []django.Info
			if err := st2.List(ctx, func(i django.Info) error { infos = append(infos, i); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(infos) != 1 || infos[0].Data != nil || infos[0].SessionKey != key {
				t.Fatalf("List with the wrong key: %+v", infos)
			}
			if _, state, err := st2.LoadState(ctx, key); err != nil || state != django.LoadCorrupt {
				t.Fatalf("LoadState with the wrong SECRET_KEY: %v, %v", state, err)
			}

			// Django (db backend, spec §3.9.1): decode gives {}, the key
			// stays, and the next save updates that row.
			sess2 := django.NewSession(ctx, st2, &other, key)
			if sess2.Has("a") || sess2.SessionKey() != key || sess2.IsEmpty() {
				t.Fatalf("corrupt row: key %q, empty %v", sess2.SessionKey(), sess2.IsEmpty())
			}
			sess2.Set("b", py.Int(2))
			if err := sess2.Save(false); err != nil {
				t.Fatal(err)
			}
			if sess2.SessionKey() != key {
				t.Fatalf("save after a corrupt load moved the session to %q", sess2.SessionKey())
			}
			got, found, err := st2.Load(ctx, key)
			if err != nil || !found || got.Len() != 1 || !got.Has(py.Str("b")) {
				t.Fatalf("row after the save: %v %v %v", got, found, err)
			}
			if _, found, _ := st.Load(ctx, key); found {
				t.Error("the row still verifies under the first SECRET_KEY")
			}
		})
	}
}

// TestVerifiedUndecodableRowIsMissing: session_data that verifies but that
// we cannot use (here a list, not a dict) is reported missing, not
// corrupt, so a save never overwrites what Django itself may read.
func TestVerifiedUndecodableRowIsMissing(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			s, _ := storetest.Settings()
			st := openStore(t, d, s)
			ctx := context.Background()
			codec, err := django.NewCodec(s)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := signing.NewTimestampSigner([]byte(s.SecretKey), &signing.Options{Salt: s.KeySalt(), Clock: s.Clock})
			if err != nil {
				t.Fatal(err)
			}
			list, err := signer.SignObject(py.NewList(py.Int(1)), true)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := codec.Decode(list); !errors.Is(err, django.ErrNotADict) {
				t.Fatalf("decoding a list: %v", err)
			}
			sess := django.NewSession(ctx, st, s, "")
			sess.Set("a", py.Int(1))
			if err := sess.Save(false); err != nil {
				t.Fatal(err)
			}
			key := sess.SessionKey()
			q := "UPDATE " + st.Table() + " SET session_data = ? WHERE session_key = ?"
			if st.Dialect() == db.PostgreSQL {
				q = "UPDATE " + st.Table() + " SET session_data = $1 WHERE session_key = $2"
			}
			if _, err := st.DB().ExecContext(ctx, q, list, key); err != nil {
				t.Fatal(err)
			}
			if _, state, err := st.LoadState(ctx, key); err != nil || state != django.LoadMissing {
				t.Fatalf("LoadState: %v, %v", state, err)
			}
			if sess := django.NewSession(ctx, st, s, key); sess.Has("a") || sess.SessionKey() != "" {
				t.Fatalf("session kept key %q", sess.SessionKey())
			}
		})
	}
}

// TestListPages lists more rows than one page holds, checking order,
// completeness and expire_date.
func TestListPages(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			s, _ := storetest.Settings()
			st := openStore(t, d, s)
			ctx := context.Background()
			n := db.ListPageSize*2 + 7
			exp := s.Now().Add(time.Hour + 123456*time.Microsecond)
			// Eight writers, so MySQL's group commit shares the flushes.
			var g errgroup
			for w := range 8 {
				g.Go(func() error {
					for i := w; i < n; i += 8 {
						data := py.NewDict(1)
						data.SetStr("i", py.Int(int64(i)))
						rec := &django.Record{SessionKey: fmt.Sprintf("key%08d", n-i), Data: data, ExpireDate: exp}
						if err := st.Save(ctx, rec, true); err != nil {
							return err
						}
					}
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			prev, count := "", 0
			err := st.List(ctx, func(in django.Info) error {
				if in.SessionKey <= prev {
					return fmt.Errorf("out of order: %q after %q", in.SessionKey, prev)
				}
				prev = in.SessionKey
				if in.Data == nil {
					return fmt.Errorf("%s: not decoded", in.SessionKey)
				}
				if !in.ExpireDate.Equal(exp.Truncate(time.Microsecond)) {
					return fmt.Errorf("%s: expire_date %v, want %v", in.SessionKey, in.ExpireDate, exp)
				}
				count++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if count != n {
				t.Fatalf("listed %d sessions, want %d", count, n)
			}
		})
	}
}

// TestUnchangedUpdate: saving a row with exactly the data and expire_date
// it has is a success, not ErrUpdateMissing (MySQL counts such a row only
// with CLIENT_FOUND_ROWS).
func TestUnchangedUpdate(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			s, _ := storetest.Settings()
			st := openStore(t, d, s)
			ctx := context.Background()
			data := py.NewDict(1)
			data.SetStr("a", py.Int(1))
			rec := &django.Record{SessionKey: "unchangedkey0001", Data: data, ExpireDate: s.Now().Add(time.Hour)}
			if err := st.Save(ctx, rec, true); err != nil {
				t.Fatal(err)
			}
			// session_data embeds a timestamp in seconds; the clock is
			// fixed, so the second save writes identical values.
			if err := st.Save(ctx, rec, false); err != nil {
				t.Fatalf("unchanged update: %v", err)
			}
		})
	}
}

func TestExpireDateRange(t *testing.T) {
	s, _ := storetest.Settings()
	st := openStore(t, testenv.Databases[0], s)
	rec := &django.Record{SessionKey: "rangekey00000001", Data: py.NewDict(0), ExpireDate: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := st.Save(context.Background(), rec, true); !errors.Is(err, db.ErrExpireDateRange) {
		t.Fatalf("Save with a year-10000 expiry: %v, want ErrExpireDateRange", err)
	}
}

func TestClosed(t *testing.T) {
	s, _ := storetest.Settings()
	st, err := db.Open("sqlite://:memory:", s)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Load(context.Background(), "abcdefghijklmnop"); err == nil {
		t.Fatal("Load after Close succeeded")
	}
}

// errgroup runs functions and keeps the first error.
type errgroup struct {
	wg   sync.WaitGroup
	once sync.Once
	err  error
}

func (g *errgroup) Go(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(); err != nil {
			g.once.Do(func() { g.err = err })
		}
	}()
}

func (g *errgroup) Wait() error { g.wg.Wait(); return g.err }

func TestOpenErrors(t *testing.T) {
	s, _ := storetest.Settings()
	if _, err := db.Open("oracle://u@h/db", s); !errors.Is(err, db.ErrUnknownScheme) {
		t.Errorf("unknown scheme: %v", err)
	}
	if _, err := db.Open("sqlite://:memory:", &django.Settings{}); !errors.Is(err, django.ErrImproperlyConfigured) {
		t.Errorf("settings without SECRET_KEY: %v", err)
	}
	if _, err := db.Open("sqlite://:memory:", s, db.WithTable("")); !errors.Is(err, django.ErrImproperlyConfigured) {
		t.Errorf("empty table name: %v", err)
	}
	if _, err := db.New(nil, db.SQLite, s); !errors.Is(err, django.ErrImproperlyConfigured) {
		t.Errorf("nil db: %v", err)
	}
}

// TestTimeout: WithTimeout puts a deadline on every operation.
func TestTimeout(t *testing.T) {
	s, _ := storetest.Settings()
	st, err := db.Open("sqlite://:memory:", s, db.WithTimeout(time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	time.Sleep(time.Millisecond)
	if _, _, err := st.Load(context.Background(), "abcdefghijklmnop"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Load with a 1 ns timeout: %v", err)
	}
}

// TestLoadExpiry: the expire_date LoadExpiry returns is the one Save wrote,
// on each database.
func TestLoadExpiry(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			s, _ := storetest.Settings()
			st := openStore(t, d, s)
			sess := django.NewSession(context.Background(), st, s, "")
			sess.Set("a", py.Int(1))
			sess.SetExpirySeconds(600)
			if err := sess.Save(false); err != nil {
				t.Fatal(err)
			}
			d, exp, state, err := st.LoadExpiry(context.Background(), sess.SessionKey())
			if err != nil || state != django.LoadFound || d.Len() != 2 {
				t.Fatalf("LoadExpiry: %v %v", state, err)
			}
			if want := s.Now().Add(600 * time.Second); !exp.Equal(want) {
				t.Errorf("expire_date %v, want %v", exp, want)
			}
			if _, _, state, _ := st.LoadExpiry(context.Background(), "nosuchsession00000000000000000000"); state != django.LoadMissing {
				t.Errorf("missing key: %v", state)
			}
		})
	}
}

package dbcache

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
)

// fixture is one fresh database shared by the clients of a test, each on a
// table of its own.
type fixture struct {
	d   testenv.Database
	url string
}

func newFixture(t testing.TB, d testenv.Database) *fixture {
	t.Helper()
	return &fixture{d: d, url: d.FastURL(t)}
}

var tableSeq atomic.Int64

// client opens a Client on a new table (created with CreateTable), closed
// and dropped when the test ends.
func (f *fixture) client(t testing.TB, s *django.Settings, o Options) *Client {
	t.Helper()
	name := fmt.Sprintf("djs_cache_%d", tableSeq.Add(1))
	c, err := Open(f.url, name, s, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateTable(context.Background()); err != nil {
		c.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := c.DB().Exec("DROP TABLE " + c.Dialect().Quote(name)); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
		c.Close()
	})
	return c
}

// store is the session Store over c, with DatabaseCache's value format.
func store(t testing.TB, c *Client, s *django.Settings) *cache.Store {
	t.Helper()
	st, err := cache.New(c, s, cache.WithFormat(codec.DjangoPickle{}))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// q runs a statement written with "?" placeholders on c's database.
func q(c *Client, stmt string) string {
	if c.Dialect() != db.PostgreSQL {
		return stmt
	}
	var b strings.Builder
	n := 0
	for _, r := range stmt {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// exec runs a statement on c's table: {t} is its quoted name.
func exec(t testing.TB, c *Client, stmt string, args ...any) {
	t.Helper()
	stmt = strings.ReplaceAll(stmt, "{t}", c.Dialect().Quote(c.Table()))
	if _, err := c.DB().Exec(q(c, stmt), args...); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// rawExpires returns a row's expires as the database holds it, as text:
// what was written on SQLite, the naive datetime(6) on MySQL, the UTC
// timestamp on PostgreSQL. ok is false for no row.
func rawExpires(t testing.TB, c *Client, key string) (string, bool) {
	t.Helper()
	var expr string
	switch c.Dialect() {
	case db.SQLite:
		expr = "CAST(expires AS TEXT)"
	case db.MySQL:
		expr = "CAST(expires AS CHAR)"
	default:
		expr = "CAST(expires AT TIME ZONE 'UTC' AS TEXT)"
	}
	var s string
	err := c.DB().QueryRow(q(c, "SELECT "+expr+" FROM "+c.Dialect().Quote(c.Table())+" WHERE cache_key = ?"), key).Scan(&s)
	if err != nil {
		if strings.Contains(err.Error(), "no rows") {
			return "", false
		}
		t.Fatalf("raw expires of %q: %v", key, err)
	}
	return s, true
}

// wantRawExpires is how the database shows an expires Django writes for
// the instant e (whole seconds): Python's str() of the naive datetime on
// SQLite, datetime(6)'s six digits on MySQL, UTC text on PostgreSQL.
func wantRawExpires(c *Client, e time.Time) string {
	switch c.Dialect() {
	case db.SQLite:
		w := e.In(c.loc)
		s := w.Format("2006-01-02 15:04:05")
		if us := w.Nanosecond() / 1000; us != 0 {
			s += fmt.Sprintf(".%06d", us)
		}
		return s
	case db.MySQL:
		return e.In(c.loc).Format("2006-01-02 15:04:05.000000")
	}
	return e.UTC().Format("2006-01-02 15:04:05.999999")
}

// rawValue returns the value column of a row.
func rawValue(t testing.TB, c *Client, key string) string {
	t.Helper()
	var s string
	if err := c.DB().QueryRow(q(c, "SELECT value FROM "+c.Dialect().Quote(c.Table())+" WHERE cache_key = ?"), key).Scan(&s); err != nil {
		t.Fatalf("raw value of %q: %v", key, err)
	}
	return s
}

// keys returns the table's keys in the database's cache_key order.
func keys(t testing.TB, c *Client) []string {
	t.Helper()
	rows, err := c.DB().Query("SELECT cache_key FROM " + c.Dialect().Quote(c.Table()) + " ORDER BY cache_key")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// insert writes a row directly, expires as what the driver binds (a
// TimeArg, text, nil).
func insert(t testing.TB, c *Client, key string, value, expires any) {
	t.Helper()
	exec(t, c, "INSERT INTO {t} (cache_key, value, expires) VALUES (?, ?, ?)", key, value, expires)
}

// insertAt writes a row expiring at e.
func insertAt(t testing.TB, c *Client, key, value string, e time.Time) {
	t.Helper()
	arg, err := c.timeArg(e)
	if err != nil {
		t.Fatal(err)
	}
	insert(t, c, key, value, arg)
}

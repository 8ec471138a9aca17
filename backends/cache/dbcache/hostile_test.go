package dbcache

import (
	"encoding/base64"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

// hostileRow is a row nobody but an attacker or a broken tool writes, and
// what every operation must make of it.
type hostileRow struct {
	name    string
	value   any // nil: NULL
	expires any // nil: NULL; a time.Time: TimeArg of it; else bound as is
	only    db.Dialect

	get     bool // Client.Get finds it
	exists  bool
	listed  bool // Scan reports it
	listVal bool // ... with a Value
	load    bool // the session Store loads it
}

// nullable lets c's table hold NULLs, as a hand-made table could.
func nullable(t *testing.T, c *Client) {
	switch c.Dialect() {
	case db.SQLite:
		exec(t, c, "DROP TABLE {t}")
		exec(t, c, "CREATE TABLE {t} (cache_key varchar(255) NOT NULL PRIMARY KEY, value text NULL, expires datetime NULL)")
	case db.PostgreSQL:
		exec(t, c, "ALTER TABLE {t} ALTER COLUMN value DROP NOT NULL, ALTER COLUMN expires DROP NOT NULL")
	case db.MySQL:
		exec(t, c, "ALTER TABLE {t} MODIFY value longtext NULL, MODIFY expires datetime(6) NULL")
	}
}

// TestHostileRows: values that are not base64 or not a pickle, NULLs and
// odd expires never panic or fail an operation; each is a miss (or, for a
// readable expires and a base64 value, an item the Store then refuses),
// Set repairs the row and Delete removes it.
func TestHostileRows(t *testing.T) {
	forEach(t, Options{}, func(t *testing.T, c *Client, s *django.Settings, _ *storetest.Clock) {
		ctx := testCtx(t)
		nullable(t, c)
		now := s.Now()
		live := now.Add(time.Hour)
		dict := py.NewDict(1)
		dict.SetStr("a", py.Int(1))
		good := base64.StdEncoding.EncodeToString(mustPickle(py.DictOf(dict)))
		b64 := func(b string) string { return base64.StdEncoding.EncodeToString([]byte(b)) }
		rows := []hostileRow{
			{name: "not_base64", value: "!!!not base64!!!", expires: live, exists: true, listed: true},
			{name: "bad_padding", value: "YWJ", expires: live, exists: true, listed: true},
			{name: "newline", value: good + "\n", expires: live, exists: true, listed: true},
			{name: "space", value: good[:4] + " " + good[4:], expires: live, exists: true, listed: true},
			{name: "excess", value: b64("\x80\x05K\x01.") + b64("\x80\x05K\x01."), expires: live, exists: true, listed: true},
			{name: "empty", value: "", expires: live, exists: true, listed: true},
			{name: "null_value", value: nil, expires: live, exists: true, listed: true},
			{name: "garbage_pickle", value: b64("\x80\x05garbage"), expires: live, get: true, exists: true, listed: true, listVal: true},
			{name: "not_a_dict", value: b64("\x80\x05K\x01."), expires: live, get: true, exists: true, listed: true, listVal: true},
			{name: "huge_nesting", value: b64("\x80\x05" + strings.Repeat("]", 100000) + "."), expires: live, get: true, exists: true, listed: true, listVal: true},
			{name: "null_expires", value: good, expires: nil},
			{name: "expired", value: good, expires: now.Add(-time.Second)},
			{name: "good", value: good, expires: live, get: true, exists: true, listed: true, listVal: true, load: true},
			{name: "text_garbage", value: good, expires: "garbage", only: db.SQLite},
			{name: "text_empty", value: good, expires: "", only: db.SQLite},
			{name: "integer", value: good, expires: 4102444800, only: db.SQLite},
			{name: "blob", value: []byte(good), expires: []byte("2999-01-01 00:00:00"), only: db.SQLite,
				get: true, exists: true, listed: true, listVal: true, load: true},
			{name: "t_separator", value: good, expires: "2999-01-01T10:00:00", only: db.SQLite,
				get: true, exists: true, listed: true, listVal: true, load: true},
			{name: "offset", value: good, expires: "2999-01-01 10:00:00+02:00", only: db.SQLite,
				get: true, exists: true, listed: true, listVal: true, load: true},
			{name: "year_10000", value: good, expires: "10000-01-01 00:00:00", only: db.SQLite},
			{name: "infinity", value: good, expires: "infinity", only: db.PostgreSQL},
			{name: "minus_infinity", value: good, expires: "-infinity", only: db.PostgreSQL},
			{name: "zero_date", value: good, expires: "0000-00-00 00:00:00", only: db.MySQL},
		}
		st := store(t, c, s)
		keyOf := map[string]string{}
		var kept []hostileRow
		for _, r := range rows {
			if r.only != 0 && r.only != c.Dialect() {
				continue
			}
			sk, err := django.NewSessionKey()
			if err != nil {
				t.Fatal(err)
			}
			keyOf[r.name] = st.CacheKey(sk)
			exp := r.expires
			if tm, ok := exp.(time.Time); ok {
				if exp, err = c.timeArg(tm); err != nil {
					t.Fatal(err)
				}
			}
			insert(t, c, keyOf[r.name], r.value, exp)
			kept = append(kept, r)
		}
		listed := map[string]cache.Item{}
		if err := c.Scan(ctx, "*", func(k string, it cache.Item) error { listed[k] = it; return nil }); err != nil {
			t.Fatalf("Scan: %v", err)
		}
		infos := map[string]django.Info{}
		if err := st.List(ctx, func(in django.Info) error { infos[st.CacheKey(in.SessionKey)] = in; return nil }); err != nil {
			t.Fatalf("List: %v", err)
		}
		for _, r := range kept {
			k := keyOf[r.name]
			sk := strings.TrimPrefix(k, st.CacheKey(""))
			it, found, err := c.Get(ctx, k)
			if err != nil || found != r.get {
				t.Errorf("%s: Get = %v, %v; want %v", r.name, found, err, r.get)
			}
			if found && len(it.Value) == 0 {
				t.Errorf("%s: Get found an empty value", r.name)
			}
			if ok, err := c.Exists(ctx, k); err != nil || ok != r.exists {
				t.Errorf("%s: Exists = %v, %v; want %v", r.name, ok, err, r.exists)
			}
			li, ok := listed[k]
			if ok != r.listed || (ok && (li.Value != nil) != r.listVal) {
				t.Errorf("%s: Scan listed %v with value %x; want listed %v with value %v", r.name, ok, li.Value, r.listed, r.listVal)
			}
			if in, ok := infos[k]; ok != r.listed || (ok && (in.Data != nil) != r.load) {
				t.Errorf("%s: List %v (%+v); want listed %v, data %v", r.name, ok, in, r.listed, r.load)
			}
			if _, found, err := st.Load(ctx, sk); err != nil || found != r.load {
				t.Errorf("%s: Store.Load = %v, %v; want %v", r.name, found, err, r.load)
			}
			if r.expires == nil {
				// A NULL expires: never overwritten by Add or Replace.
				if ok, err := c.Add(ctx, k, cache.Item{Value: pickleA}, time.Hour); ok || err != nil {
					t.Errorf("%s: Add = %v, %v", r.name, ok, err)
				}
				if ok, err := c.Replace(ctx, k, cache.Item{Value: pickleA}, time.Hour); ok || err != nil {
					t.Errorf("%s: Replace = %v, %v", r.name, ok, err)
				}
			} else {
				// Whatever the database's comparison makes of the row,
				// no error.
				if _, err := c.Add(ctx, k, cache.Item{Value: pickleA}, time.Hour); err != nil {
					t.Errorf("%s: Add: %v", r.name, err)
				}
				if _, err := c.Replace(ctx, k, cache.Item{Value: pickleA}, time.Hour); err != nil {
					t.Errorf("%s: Replace: %v", r.name, err)
				}
			}
			// Set repairs the row.
			if err := c.Set(ctx, k, cache.Item{Value: pickleB}, time.Hour); err != nil {
				t.Errorf("%s: Set: %v", r.name, err)
			}
			if it, found, err := c.Get(ctx, k); err != nil || !found || string(it.Value) != string(pickleB) {
				t.Errorf("%s: after Set, Get = %x, %v, %v", r.name, it.Value, found, err)
			}
			if ok, err := c.Delete(ctx, k); err != nil || !ok {
				t.Errorf("%s: Delete = %v, %v", r.name, ok, err)
			}
		}
		if left := keys(t, c); len(left) != 0 {
			sort.Strings(left)
			t.Errorf("rows left: %q", left)
		}
	})
}

// FuzzValueFormat: ValueFormat.Decode (djsession decode --cache-format
// dbcache) never panics, reads exactly what the Client reads from the
// value column, and Encode's output reads back.
func FuzzValueFormat(f *testing.F) {
	f.Add([]byte(base64.StdEncoding.EncodeToString(pickleA)))
	f.Add([]byte("gAWVCgAAAAAAAAB9lIwBYZRLAXMu"))
	f.Add([]byte("a b"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1 << 16
		v, err := ValueFormat{MaxSize: limit}.Decode(data, 0)
		// What the Client hands the Store for this column, and whether the
		// Store's format unpickles it.
		b, ok := decodeValue(string(data))
		if ok {
			_, perr := codec.DjangoPickle{MaxSize: limit}.Decode(b, 0)
			ok = perr == nil
		}
		if ok != (err == nil) {
			t.Fatalf("column %q: Client+DjangoPickle read it: %v; ValueFormat: %v", data, ok, err)
		}
		if err != nil {
			return
		}
		enc, _, err := ValueFormat{}.Encode(v)
		if err != nil {
			return // a value the reader takes but the writer refuses (a pickle-only shape)
		}
		back, err := ValueFormat{}.Decode(enc, 0)
		if err != nil || !back.Equal(v) {
			t.Fatalf("round trip of %v: %v, %v", v, back, err)
		}
	})
}

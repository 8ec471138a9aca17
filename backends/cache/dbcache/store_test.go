package dbcache

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle"
	"github.com/djsession/djsession/pickle/py"
)

// TestConformance runs the session store suite over the cache Store on a
// DatabaseCache table, on each database, with USE_TZ true and false. A cull
// would remove live sessions (as Django's would), so MAX_ENTRIES is large.
func TestConformance(t *testing.T) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			f := newFixture(t, d)
			for _, tc := range testenv.TZCases(t) {
				t.Run(tc.Name, func(t *testing.T) {
					storetest.Run(t, storetest.Harness{
						NoClearExpired: true,
						MaxAgeExpiry:   true, // get: expired when expires < now
						New: func(t *testing.T, s *django.Settings) django.Store {
							tc.Apply(s)
							return store(t, f.client(t, s, Options{MaxEntries: 1 << 30}), s)
						},
					})
				})
			}
		})
	}
}

// forEach runs fn on a fresh client per database and time zone case, with
// storetest's settable clock.
func forEach(t *testing.T, o Options, fn func(t *testing.T, c *Client, s *django.Settings, clock *storetest.Clock)) {
	for _, d := range testenv.Databases {
		t.Run(d.Name, func(t *testing.T) {
			f := newFixture(t, d)
			for _, tc := range testenv.TZCases(t) {
				t.Run(tc.Name, func(t *testing.T) {
					s, clock := storetest.Settings()
					tc.Apply(s)
					fn(t, f.client(t, s, o), s, clock)
				})
			}
		})
	}
}

var (
	pickleA = mustPickle(py.Str("a"))
	pickleB = mustPickle(py.NewList(py.Int(1), py.Str("two")))
)

func mustPickle(v py.Value) []byte {
	b, err := pickle.Dumps(v, pickle.HighestProtocol)
	if err != nil {
		panic(err)
	}
	return b
}

// TestSemantics: DatabaseCache's rules for each operation, at the second
// boundaries where they differ.
func TestSemantics(t *testing.T) {
	forEach(t, Options{}, func(t *testing.T, c *Client, s *django.Settings, clock *storetest.Clock) {
		ctx := testCtx(t)
		clock.Advance(250 * time.Millisecond) // now has a fraction
		t0 := s.Now()
		e := t0.Add(10 * time.Second).Truncate(time.Second) // floor(now + ttl)

		// Set: base64 of the pickle, expires floor(now + ttl).
		if err := c.Set(ctx, "k", cache.Item{Value: pickleA}, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if got, want := rawValue(t, c, "k"), base64.StdEncoding.EncodeToString(pickleA); got != want {
			t.Errorf("value column %q, want %q", got, want)
		}
		if got, _ := rawExpires(t, c, "k"); got != wantRawExpires(c, e) {
			t.Errorf("expires column %q, want %q", got, wantRawExpires(c, e))
		}
		it, found, err := c.Get(ctx, "k")
		if err != nil || !found || !bytes.Equal(it.Value, pickleA) || it.Flags != 0 {
			t.Fatalf("Get = %x, %v, %v", it.Value, found, err)
		}

		// Add on a live row: false, nothing changes; Replace: true.
		if ok, err := c.Add(ctx, "k", cache.Item{Value: pickleB}, time.Hour); ok || err != nil {
			t.Errorf("Add on a live row = %v, %v", ok, err)
		}
		if ok, err := c.Replace(ctx, "k", cache.Item{Value: pickleB}, 10*time.Second); !ok || err != nil {
			t.Errorf("Replace on a live row = %v, %v", ok, err)
		}
		if it, _, _ := c.Get(ctx, "k"); !bytes.Equal(it.Value, pickleB) {
			t.Errorf("after Replace: %x", it.Value)
		}

		// Just before expires: live everywhere.
		clock.Advance(e.Sub(s.Now()) - time.Nanosecond)
		if ok, _ := c.Exists(ctx, "k"); !ok {
			t.Error("Exists just before expires = false")
		}
		if _, found, _ := c.Get(ctx, "k"); !found {
			t.Error("Get just before expires: miss")
		}
		// At expires: Exists says gone (has_key: expires > now), Get
		// still serves it (get_many: expired when expires < now), as
		// Django does; the row stays.
		clock.Advance(time.Nanosecond)
		if ok, _ := c.Exists(ctx, "k"); ok {
			t.Error("Exists at expires = true")
		}
		if _, found, _ := c.Get(ctx, "k"); !found {
			t.Error("Get at expires: miss")
		}
		if _, ok := rawExpires(t, c, "k"); !ok {
			t.Error("Get deleted a row at its expires instant")
		}
		if ok, err := c.Replace(ctx, "k", cache.Item{Value: pickleA}, time.Hour); ok || err != nil {
			t.Errorf("Replace at expires = %v, %v", ok, err)
		}
		// Within the second after expires, Add still sees the row as live
		// (Django compares expires < now without its microseconds).
		clock.Advance(999 * time.Millisecond)
		if ok, err := c.Add(ctx, "k", cache.Item{Value: pickleA}, time.Hour); ok || err != nil {
			t.Errorf("Add in the second after expires = %v, %v", ok, err)
		}
		// A second after: Add overwrites the expired row.
		clock.Advance(time.Millisecond)
		if ok, err := c.Add(ctx, "k", cache.Item{Value: pickleA}, time.Hour); !ok || err != nil {
			t.Errorf("Add on an expired row = %v, %v", ok, err)
		}
		if it, found, _ := c.Get(ctx, "k"); !found || !bytes.Equal(it.Value, pickleA) {
			t.Errorf("after Add over an expired row: %x %v", it.Value, found)
		}

		// Get deletes a row once expires < now.
		if err := c.Set(ctx, "old", cache.Item{Value: pickleA}, time.Second); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Second)
		if _, found, err := c.Get(ctx, "old"); found || err != nil {
			t.Errorf("Get of an expired row = %v, %v", found, err)
		}
		if _, ok := rawExpires(t, c, "old"); ok {
			t.Error("Get left an expired row")
		}

		// Missing keys.
		if ok, err := c.Replace(ctx, "missing", cache.Item{Value: pickleA}, time.Hour); ok || err != nil {
			t.Errorf("Replace of a missing key = %v, %v", ok, err)
		}
		if _, ok := rawExpires(t, c, "missing"); ok {
			t.Error("Replace created a row")
		}
		if ok, err := c.Add(ctx, "new", cache.Item{Value: pickleA}, time.Hour); !ok || err != nil {
			t.Errorf("Add of a new key = %v, %v", ok, err)
		}

		// Delete reports whether there was a row, expired ones included.
		if err := c.Set(ctx, "gone", cache.Item{Value: pickleA}, time.Second); err != nil {
			t.Fatal(err)
		}
		clock.Advance(5 * time.Second)
		if ok, err := c.Delete(ctx, "gone"); !ok || err != nil {
			t.Errorf("Delete of an expired row = %v, %v", ok, err)
		}
		if ok, err := c.Delete(ctx, "gone"); ok || err != nil {
			t.Errorf("second Delete = %v, %v", ok, err)
		}

		// A ttl of 0 is -1 s (get_backend_timeout): written, expired.
		if err := c.Set(ctx, "zero", cache.Item{Value: pickleA}, 0); err != nil {
			t.Fatal(err)
		}
		if got, _ := rawExpires(t, c, "zero"); got != wantRawExpires(c, s.Now().Truncate(time.Second).Add(-time.Second)) {
			t.Errorf("ttl 0 wrote expires %q", got)
		}
		if _, found, _ := c.Get(ctx, "zero"); found {
			t.Error("ttl 0: hit")
		}
	})
}

// TestNeverExpires: a row Django wrote with timeout=None (datetime.max)
// lives forever; Scan reports a negative TTL.
func TestNeverExpires(t *testing.T) {
	forEach(t, Options{}, func(t *testing.T, c *Client, s *django.Settings, _ *storetest.Clock) {
		ctx := testCtx(t)
		max := time.Date(9999, 12, 31, 23, 59, 59, 0, c.loc)
		insertAt(t, c, "forever", base64.StdEncoding.EncodeToString(pickleA), max)
		if got, _ := rawExpires(t, c, "forever"); got != wantRawExpires(c, max) {
			t.Errorf("datetime.max stored as %q", got)
		}
		if _, found, err := c.Get(ctx, "forever"); !found || err != nil {
			t.Fatalf("Get = %v, %v", found, err)
		}
		if ok, _ := c.Exists(ctx, "forever"); !ok {
			t.Error("Exists = false")
		}
		var ttl time.Duration
		if err := c.Scan(ctx, "*", func(_ string, it cache.Item) error { ttl = it.TTL; return nil }); err != nil {
			t.Fatal(err)
		}
		if ttl >= 0 {
			t.Errorf("TTL of datetime.max = %v, want negative", ttl)
		}
		if ok, _ := c.Add(ctx, "forever", cache.Item{Value: pickleB}, time.Hour); ok {
			t.Error("Add over datetime.max succeeded")
		}
	})
}

// TestScan: glob matching (with the escapes of codec.MakePattern and the
// LIKE wildcards % and _ as plain characters), order, paging, TTLs,
// expired rows skipped, the callback's error.
func TestScan(t *testing.T) {
	forEach(t, Options{}, func(t *testing.T, c *Client, s *django.Settings, clock *storetest.Clock) {
		ctx := testCtx(t)
		v := base64.StdEncoding.EncodeToString(pickleA)
		now := s.Now()
		live := now.Add(time.Hour)
		// Many rows under one prefix, so the scan pages, in one statement
		// per 100 rows.
		const many = 2*ScanPageSize + 17
		var wantMany []string
		for i := 0; i < many; i += 100 {
			var vals []string
			var args []any
			e, _ := c.timeArg(live)
			for j := i; j < i+100 && j < many; j++ {
				k := fmt.Sprintf("p:%05d", j)
				wantMany = append(wantMany, k)
				vals = append(vals, "(?, ?, ?)")
				args = append(args, k, v, e)
			}
			exec(t, c, "INSERT INTO {t} (cache_key, value, expires) VALUES "+strings.Join(vals, ", "), args...)
		}
		for _, k := range []string{"a*b:1", "a*b:2", "axb:1", "a%b:1", "a_b:1", "a-b:1", "a!b:1", "q?:1", "q[:1", "other"} {
			insertAt(t, c, k, v, live)
		}
		insertAt(t, c, "a*b:expired", v, now.Add(-time.Second))
		insertAt(t, c, "a*b:edge", v, now) // expires == now: expired
		insertAt(t, c, "a*b:notb64", "%%%", live)

		scan := func(pattern string) ([]string, map[string]cache.Item) {
			t.Helper()
			var got []string
			items := map[string]cache.Item{}
			err := c.Scan(ctx, pattern, func(k string, it cache.Item) error {
				got = append(got, k)
				items[k] = it
				return nil
			})
			if err != nil {
				t.Fatalf("Scan(%q): %v", pattern, err)
			}
			return got, items
		}
		got, items := scan(codec.MakePattern("b*", "a*", 0, func(key, prefix string, _ int) string { return prefix + key }))
		if want := []string{"a*b:1", "a*b:2", "a*b:notb64"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("escaped prefix: %q, want %q", got, want)
		}
		if it := items["a*b:1"]; !bytes.Equal(it.Value, pickleA) || it.TTL != time.Hour || !it.Expires.Equal(live) {
			t.Errorf("item %x TTL %v expires %v", it.Value, it.TTL, it.Expires)
		}
		if it := items["a*b:notb64"]; it.Value != nil {
			t.Errorf("a value that is not base64 came back as %x", it.Value)
		}
		for pattern, want := range map[string][]string{
			"a%b*":  {"a%b:1"},
			"a_b*":  {"a_b:1"},
			"a!b*":  {"a!b:1"},
			"a?b:1": {"a!b:1", "a%b:1", "a*b:1", "a-b:1", "a_b:1", "axb:1"},
			"q[?]*": {"q?:1"},
			"q[[]*": {"q[:1"},
			"other": {"other"},
			"nope*": nil,
		} {
			got, _ := scan(pattern)
			sort.Strings(got)
			sort.Strings(want)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("Scan(%q) = %q, want %q", pattern, got, want)
			}
		}
		got, _ = scan("p:*")
		if len(got) != many {
			t.Fatalf("paged scan saw %d rows, want %d", len(got), many)
		}
		seen := map[string]bool{}
		for _, k := range got {
			if seen[k] {
				t.Fatalf("%q listed twice", k)
			}
			seen[k] = true
		}
		all, _ := scan("*")
		if len(all) != many+10+1 {
			t.Errorf("Scan(*) saw %d rows, want %d", len(all), many+11)
		}
		// The callback's error stops the scan.
		stop := errors.New("stop")
		calls := 0
		if err := c.Scan(ctx, "*", func(string, cache.Item) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
			t.Errorf("Scan with a failing callback: %v after %d calls", err, calls)
		}
		// ScanBounded: a value over the limit comes with a nil Value.
		var bounded cache.Item
		if err := c.ScanBounded(ctx, "a[*]b:1", len(pickleA)-1, func(_ string, it cache.Item) error { bounded = it; return nil }); err != nil {
			t.Fatal(err)
		}
		if bounded.Value != nil || bounded.TTL != time.Hour {
			t.Errorf("ScanBounded below the size: %x, TTL %v", bounded.Value, bounded.TTL)
		}
		if err := c.ScanBounded(ctx, "a[*]b:1", len(pickleA), func(_ string, it cache.Item) error { bounded = it; return nil }); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bounded.Value, pickleA) {
			t.Errorf("ScanBounded at the size: %x", bounded.Value)
		}
		// Time passes: the TTL shrinks, rows expire.
		clock.Advance(time.Hour - time.Second)
		_, items = scan("a[*]b:1")
		if it := items["a*b:1"]; it.TTL != time.Second {
			t.Errorf("TTL after an hour less a second: %v", it.TTL)
		}
		clock.Advance(time.Second)
		if got, _ := scan("*"); len(got) != 0 {
			t.Errorf("after expiry Scan saw %d rows", len(got))
		}
	})
}

// TestBounded: GetBounded reads no value whose pickle is longer than the
// limit.
func TestBounded(t *testing.T) {
	forEach(t, Options{}, func(t *testing.T, c *Client, s *django.Settings, _ *storetest.Clock) {
		ctx := testCtx(t)
		for _, n := range []int{1, 2, 3, 4, 100, 101, 102} {
			v := bytes.Repeat([]byte{0x80}, n)
			k := fmt.Sprintf("n%d", n)
			if err := c.Set(ctx, k, cache.Item{Value: v}, time.Hour); err != nil {
				t.Fatal(err)
			}
			for _, limit := range []int{n - 1, n, n + 1} {
				it, found, err := c.GetBounded(ctx, k, limit)
				if err != nil {
					t.Fatal(err)
				}
				want := limit <= 0 || n <= limit
				if found != want || (found && !bytes.Equal(it.Value, v)) {
					t.Errorf("GetBounded(%d bytes, limit %d) = %v, want %v", n, limit, found, want)
				}
			}
		}
		// Through the Store: a session over WithMaxValueSize is a miss.
		st, err := cache.New(c, s, cache.WithFormat(codec.DjangoPickle{}), cache.WithMaxValueSize(64))
		if err != nil {
			t.Fatal(err)
		}
		sess := django.NewSession(ctx, st, s, "")
		sess.Set("big", py.Str(strings.Repeat("x", 200)))
		if err := sess.Save(false); err != nil {
			t.Fatal(err)
		}
		if _, found, err := st.Load(ctx, sess.SessionKey()); found || err != nil {
			t.Errorf("Load of a session over the limit = %v, %v", found, err)
		}
	})
}

// TestCull: _cull on our writes (Django's own culling is compared in
// TestInteropCull).
func TestCull(t *testing.T) {
	for _, tc := range []struct {
		name      string
		o         Options
		live, exp int
		want      []string // keys left after Set("zz-new")
	}{
		// 8 rows > 5: no expired rows, so 8/3 = 2 keys go, in key order.
		{"by_key", Options{MaxEntries: 5, CullFrequency: 3}, 8, 0, []string{"k2", "k3", "k4", "k5", "k6", "k7", "zz-new"}},
		// Deleting the 4 expired rows is enough.
		{"expired_first", Options{MaxEntries: 5, CullFrequency: 3}, 4, 4, []string{"k0", "k1", "k2", "k3", "zz-new"}},
		// CULL_FREQUENCY 0: everything goes.
		{"all", Options{MaxEntries: 5, CullFrequency: CullAll}, 8, 0, []string{"zz-new"}},
		// No more rows than MAX_ENTRIES: nothing goes, expired rows stay.
		{"under", Options{MaxEntries: 8, CullFrequency: 3}, 4, 4, []string{"k0", "k1", "k2", "k3", "x0", "x1", "x2", "x3", "zz-new"}},
		// CULL_FREQUENCY 1: OFFSET count finds no key, so only the
		// expired rows go.
		{"one", Options{MaxEntries: 2, CullFrequency: 1}, 4, 1, []string{"k0", "k1", "k2", "k3", "zz-new"}},
		// MAX_ENTRIES 0 (negative here): cull whenever there is a row.
		{"zero_max", Options{MaxEntries: -1, CullFrequency: 2}, 4, 0, []string{"k2", "k3", "zz-new"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEach(t, tc.o, func(t *testing.T, c *Client, s *django.Settings, _ *storetest.Clock) {
				ctx := testCtx(t)
				v := base64.StdEncoding.EncodeToString(pickleA)
				for i := range tc.live {
					insertAt(t, c, fmt.Sprintf("k%d", i), v, s.Now().Add(time.Hour))
				}
				for i := range tc.exp {
					insertAt(t, c, fmt.Sprintf("x%d", i), v, s.Now().Add(-time.Hour))
				}
				if err := c.Set(ctx, "zz-new", cache.Item{Value: pickleA}, time.Hour); err != nil {
					t.Fatal(err)
				}
				if got := keys(t, c); fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("left %q, want %q", got, tc.want)
				}
			})
		})
	}
}

// TestConcurrentAddExpired: of concurrent Adds of one expired key, exactly
// one succeeds.
func TestConcurrentAddExpired(t *testing.T) {
	forEach(t, Options{}, func(t *testing.T, c *Client, s *django.Settings, _ *storetest.Clock) {
		ctx := testCtx(t)
		insertAt(t, c, "k", base64.StdEncoding.EncodeToString(pickleA), s.Now().Add(-time.Hour))
		const n = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range n {
			wg.Go(func() {
				ok, err := c.Add(ctx, "k", cache.Item{Value: pickleB}, time.Hour)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%d concurrent Adds of an expired key succeeded, want 1", won)
		}
	})
}

// TestKeys: keys the column cannot hold are misses without a query, and
// writes of them fail with codec.ErrInvalidKey; any other key (quotes,
// LIKE wildcards, non-ASCII) round-trips.
func TestKeys(t *testing.T) {
	forEach(t, Options{}, func(t *testing.T, c *Client, s *django.Settings, _ *storetest.Clock) {
		ctx := testCtx(t)
		for _, k := range []string{strings.Repeat("a", 256), "a\x00b", "a\xffb"} {
			if _, found, err := c.Get(ctx, k); found || err != nil {
				t.Errorf("Get(%.20q) = %v, %v", k, found, err)
			}
			if ok, err := c.Exists(ctx, k); ok || err != nil {
				t.Errorf("Exists(%.20q) = %v, %v", k, ok, err)
			}
			if ok, err := c.Delete(ctx, k); ok || err != nil {
				t.Errorf("Delete(%.20q) = %v, %v", k, ok, err)
			}
			if err := c.Set(ctx, k, cache.Item{Value: pickleA}, time.Hour); !errors.Is(err, codec.ErrInvalidKey) {
				t.Errorf("Set(%.20q) = %v", k, err)
			}
			if _, err := c.Add(ctx, k, cache.Item{Value: pickleA}, time.Hour); !errors.Is(err, codec.ErrInvalidKey) {
				t.Errorf("Add(%.20q) = %v", k, err)
			}
		}
		for _, k := range []string{strings.Repeat("é", 255), `it's "quoted" ` + "`x`", "50%_off\\", ""} {
			if err := c.Set(ctx, k, cache.Item{Value: pickleB}, time.Hour); err != nil {
				t.Fatalf("Set(%.20q): %v", k, err)
			}
			if it, found, err := c.Get(ctx, k); !found || err != nil || !bytes.Equal(it.Value, pickleB) {
				t.Errorf("Get(%.20q) = %v, %v", k, found, err)
			}
			var listed []string
			if err := c.Scan(ctx, strings.NewReplacer("*", `\*`, "?", `\?`, "[", `\[`, `\`, `\\`).Replace(k), func(key string, _ cache.Item) error {
				listed = append(listed, key)
				return nil
			}); err != nil || len(listed) != 1 || listed[0] != k {
				t.Errorf("Scan of %.20q: %q, %v", k, listed, err)
			}
		}
	})
}

// TestClosed: a closed Client refuses every operation with cache.ErrClosed;
// New's Client leaves the pool open, Open's closes it.
func TestClosed(t *testing.T) {
	s, _ := storetest.Settings()
	f := newFixture(t, testenv.Databases[0])
	owned := f.client(t, s, Options{})
	c, err := New(owned.DB(), owned.Dialect(), owned.Table(), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	checks := map[string]error{}
	_, _, checks["Get"] = c.Get(ctx, "k")
	_, checks["Exists"] = c.Exists(ctx, "k")
	checks["Set"] = c.Set(ctx, "k", cache.Item{Value: pickleA}, time.Hour)
	_, checks["Add"] = c.Add(ctx, "k", cache.Item{Value: pickleA}, time.Hour)
	_, checks["Replace"] = c.Replace(ctx, "k", cache.Item{Value: pickleA}, time.Hour)
	_, checks["Delete"] = c.Delete(ctx, "k")
	checks["Scan"] = c.Scan(ctx, "*", func(string, cache.Item) error { return nil })
	checks["CreateTable"] = c.CreateTable(ctx)
	for op, err := range checks {
		if !errors.Is(err, cache.ErrClosed) {
			t.Errorf("%s after Close: %v", op, err)
		}
	}
	if err := owned.DB().Ping(); err != nil {
		t.Errorf("New's Close closed the pool: %v", err)
	}
	other, err := Open(f.url, owned.Table(), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.DB().Ping(); err != nil {
		t.Fatal(err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.DB().Ping(); err == nil {
		t.Error("Open's Close left the pool open")
	}
	if err := other.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestConfig: what New and Open refuse.
func TestConfig(t *testing.T) {
	s, _ := storetest.Settings()
	f := newFixture(t, testenv.Databases[0])
	c := f.client(t, s, Options{})
	for name, fn := range map[string]func() error{
		"nil db":        func() error { _, err := New(nil, db.SQLite, "t", s, Options{}); return err },
		"dialect":       func() error { _, err := New(c.DB(), db.Dialect(0), "t", s, Options{}); return err },
		"settings":      func() error { _, err := New(c.DB(), db.SQLite, "t", nil, Options{}); return err },
		"empty table":   func() error { _, err := New(c.DB(), db.SQLite, "", s, Options{}); return err },
		"NUL table":     func() error { _, err := New(c.DB(), db.SQLite, "a\x00b", s, Options{}); return err },
		"cull -2":       func() error { _, err := New(c.DB(), db.SQLite, "t", s, Options{CullFrequency: -2}); return err },
		"open bad url":  func() error { _, err := Open("nosuch://x", "t", s, Options{}); return err },
		"open no table": func() error { _, err := Open("sqlite://:memory:", "", s, Options{}); return err },
	} {
		err := fn()
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if name != "open bad url" && !errors.Is(err, django.ErrImproperlyConfigured) {
			t.Errorf("%s: %v does not wrap ErrImproperlyConfigured", name, err)
		}
	}
	if err := c.CreateTable(testCtx(t)); err == nil {
		t.Error("CreateTable of an existing table succeeded")
	}
}

// TestUnavailable: a database that cannot be reached is
// cache.ErrUnavailable, and the Store's Load returns it.
func TestUnavailable(t *testing.T) {
	s, _ := storetest.Settings()
	for _, u := range []string{
		"postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2",
		"mysql://root@127.0.0.1:1/test",
	} {
		c, err := Open(u, "t", s, Options{Timeout: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx := testCtx(t)
		if _, _, err := c.Get(ctx, "k"); !errors.Is(err, cache.ErrUnavailable) {
			t.Errorf("%s: Get: %v", c.Dialect(), err)
		}
		if err := c.Set(ctx, "k", cache.Item{Value: pickleA}, time.Hour); !errors.Is(err, cache.ErrUnavailable) {
			t.Errorf("%s: Set: %v", c.Dialect(), err)
		}
		st := store(t, c, s)
		if _, _, err := st.Load(ctx, "abcdefghijklmnopqrstuvwxyz012345"); !errors.Is(err, cache.ErrUnavailable) {
			t.Errorf("%s: Store.Load: %v", c.Dialect(), err)
		}
	}
}

// TestPreparedAndUnprepared: reads run prepared by default (one statement
// per query text, reused) and unprepared with Options.Unprepared, with the
// same results; Close closes the prepared statements.
func TestPreparedAndUnprepared(t *testing.T) {
	for _, unprepared := range []bool{false, true} {
		forEach(t, Options{}, func(t *testing.T, owner *Client, s *django.Settings, _ *storetest.Clock) {
			ctx := testCtx(t)
			// A Client over owner's pool: closing it leaves the pool open.
			c, err := New(owner.DB(), owner.Dialect(), owner.Table(), s, Options{Unprepared: unprepared})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Set(ctx, "k", cache.Item{Value: pickleA}, time.Hour); err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if it, found, err := c.Get(ctx, "k"); err != nil || !found || !bytes.Equal(it.Value, pickleA) {
					t.Fatalf("Get = %x %v %v", it.Value, found, err)
				}
				if ok, err := c.Exists(ctx, "k"); err != nil || !ok {
					t.Fatalf("Exists = %v %v", ok, err)
				}
			}
			n := 0
			c.stmts.Range(func(any, any) bool { n++; return true })
			if want := map[bool]int{false: 3, true: 0}[unprepared]; n != want { // get, exists, count
				t.Errorf("unprepared=%v: %d prepared statements, want %d", unprepared, n, want)
			}
			c.Close()
			n = 0
			c.stmts.Range(func(any, any) bool { n++; return true })
			if n != 0 {
				t.Errorf("%d statements left open after Close", n)
			}
			if _, _, err := c.Get(ctx, "k"); !errors.Is(err, cache.ErrClosed) {
				t.Errorf("Get after Close: %v", err)
			}
		})
	}
}

// TestGetExpiredDeleteFails: an expired row whose deletion fails (a
// read-only user, here a trigger refusing deletes) is still a miss, not an
// error.
func TestGetExpiredDeleteFails(t *testing.T) {
	s, clock := storetest.Settings()
	c := newFixture(t, testenv.Databases[0]).client(t, s, Options{})
	ctx := testCtx(t)
	if err := c.Set(ctx, "k", cache.Item{Value: pickleA}, time.Second); err != nil {
		t.Fatal(err)
	}
	exec(t, c, "CREATE TRIGGER no_deletes BEFORE DELETE ON {t} BEGIN SELECT RAISE(FAIL, 'read-only'); END")
	clock.Advance(2 * time.Second)
	if _, found, err := c.Get(ctx, "k"); found || err != nil {
		t.Fatalf("Get of an expired row that cannot be deleted = %v, %v; want a miss", found, err)
	}
	if _, ok := rawExpires(t, c, "k"); !ok {
		t.Fatal("the row went away despite the trigger")
	}
}

// TestOpenFollowsDBOptions: the options of the session database reach the
// cache table's Client.
func TestOpenFollowsDBOptions(t *testing.T) {
	s, _ := storetest.Settings()
	u := testenv.SQLiteURL(t)
	c, err := Open(u, "t", s, Options{}, db.WithPreparedStatements(false), db.WithTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.unprepared || c.timeout != 3*time.Second {
		t.Errorf("unprepared %v, timeout %v", c.unprepared, c.timeout)
	}
	c2, err := Open(u, "t", s, Options{Timeout: time.Second}, db.WithTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.unprepared || c2.timeout != time.Second {
		t.Errorf("own options: unprepared %v, timeout %v", c2.unprepared, c2.timeout)
	}
}

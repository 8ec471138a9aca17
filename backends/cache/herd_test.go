package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle"
	"github.com/djsession/djsession/pickle/py"
)

// Tests of django-redis's HerdClient (spec §7.5): options, what the Store
// writes, the stale/miss rule on a fixed clock, hostile wrapped values,
// and Django with CLIENT_CLASS HerdClient in both directions.

func TestHerdOptions(t *testing.T) {
	s, _ := storetest.Settings()
	for _, tc := range []struct {
		url     string
		opts    []Option
		timeout int
		herd    bool
	}{
		{"redis://127.0.0.1:1/0", nil, 0, false},
		{"redis://127.0.0.1:1/0?client_class=django_redis.client.HerdClient", nil, 60, true},
		{"redis://127.0.0.1:1/0?client_class=django_redis.client.HerdClient&herd_timeout=5", nil, 5, true},
		{"redis://127.0.0.1:1/0?client_class=django_redis.client.HerdClient&herd_timeout=5", []Option{WithHerd(7)}, 7, true},
		{"redis://127.0.0.1:1/0", []Option{WithHerd(codec.DefaultHerdTimeout), WithCompressor("zlib")}, 60, true},
		{"redis://127.0.0.1:1/0", []Option{WithHerd(0)}, 0, true},
		{"redis://127.0.0.1:1,127.0.0.1:2/0?client_class=django_redis.client.HerdClient", nil, 60, true},
		// json opens (it reads plain values) but cannot save, as in django-redis.
		{"redis://127.0.0.1:1/0?client_class=django_redis.client.HerdClient&serializer=json", nil, 60, true},
	} {
		st, err := Open(tc.url, s, tc.opts...)
		if err != nil {
			t.Errorf("Open(%s): %v", tc.url, err)
			continue
		}
		if timeout, herd := st.Herd(); herd != tc.herd || timeout != tc.timeout {
			t.Errorf("Open(%s).Herd() = %d, %v; want %d, %v", tc.url, timeout, herd, tc.timeout, tc.herd)
		}
		st.Close()
	}
	for _, bad := range []struct {
		url  string
		opts []Option
	}{
		{"redis://127.0.0.1:1/0", []Option{WithHerd(-1)}},
		{"redis://127.0.0.1:1/0", []Option{WithHerd(60), WithFormatName("django")}},
		{"redis://127.0.0.1:1/0?format=django", []Option{WithHerd(60)}},
		{"pymemcache://127.0.0.1:1", []Option{WithHerd(60)}},
		{"redis://127.0.0.1:1/0?client_class=django_redis.client.HerdClient", []Option{WithFormatName("django")}},
		{"redis://127.0.0.1:1/0?client_class=django_redis.client.HerdClient", []Option{WithFormat(codec.PyMemcache{})}},
	} {
		if st, err := Open(bad.url, s, bad.opts...); !errors.Is(err, django.ErrImproperlyConfigured) {
			if err == nil {
				st.Close()
			}
			t.Errorf("Open(%s) with %d options: %v, want ErrImproperlyConfigured", bad.url, len(bad.opts), err)
		}
	}
	// New: any client, with the django-redis format (by value or pointer).
	rs, err := Open("redis://127.0.0.1:1/0", s)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for _, f := range []codec.Format{codec.DjangoRedis{Compressor: codec.ZlibCompressor{}}, &codec.DjangoRedis{}} {
		st, err := New(rs.Client(), s, WithFormat(f), WithHerd(30))
		if err != nil {
			t.Fatalf("New(%T): %v", f, err)
		}
		if timeout, herd := st.Herd(); !herd || timeout != 30 {
			t.Errorf("New(%T).Herd() = %d, %v", f, timeout, herd)
		}
	}
	if _, err := New(rs.Client(), s, WithFormat(codec.DjangoRedisCache{}), WithHerd(30)); !errors.Is(err, django.ErrImproperlyConfigured) {
		t.Errorf("New with Django's format and WithHerd: %v", err)
	}
}

// fixedSettings returns settings whose clock reads now.
func fixedSettings(now time.Time) *django.Settings {
	s, _ := storetest.Settings()
	s.Clock = func() time.Time { return now }
	return s
}

func herdSession(kv ...string) *py.Dict {
	return record("x", 0, kv...).Data
}

// TestHerdWire: what a Herd store writes (the §9.8 shape through the
// serializer and compressor, deadline now + age) and its TTL (age +
// CACHE_HERD_TIMEOUT), for Save (create and update) and Set; an age ≤ 0
// deletes as before.
func TestHerdWire(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		name    string
		opts    []Option
		timeout int
		format  codec.DjangoRedis
	}{
		{"pickle", []Option{WithHerd(60)}, 60, codec.DjangoRedis{}},
		{"pickle-zlib-p5", []Option{WithHerd(90), WithCompressor("zlib"), WithPickleVersion(5)}, 90,
			codec.DjangoRedis{Compressor: codec.ZlibCompressor{}, Serializer: codec.PickleSerializer{Protocol: 5}}},
		{"pickle-lzma", []Option{WithHerd(0), WithCompressor("lzma")}, 0, codec.DjangoRedis{Compressor: codec.LzmaCompressor{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := openRedis(t, fixedSettings(now), tc.opts...)
			rc := adminRedis(t, redisURL(t))
			ctx := testCtx(t)
			key, _ := django.NewSessionKey()
			check := func(what string, age int, data *py.Dict) {
				t.Helper()
				raw, err := rc.Get(ctx, st.CacheKey(key)).Bytes()
				if err != nil {
					t.Fatalf("%s: GET: %v", what, err)
				}
				want, err := tc.format.EncodeHerd(py.DictOf(data), now.Unix()+int64(age))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(raw, want) {
					t.Errorf("%s: stored %x\nwant %x", what, raw, want)
				}
				v, deadline, herd, err := tc.format.DecodeHerd(raw)
				if err != nil || !herd || deadline != now.Unix()+int64(age) || v.Repr() != py.DictOf(data).Repr() {
					t.Errorf("%s: stored value reads as %s, %d, %v, %v", what, v.Repr(), deadline, herd, err)
				}
				ttl, err := rc.PTTL(ctx, st.CacheKey(key)).Result()
				full := time.Duration(age+tc.timeout) * time.Second
				if err != nil || ttl <= full-10*time.Second || ttl > full {
					t.Errorf("%s: PTTL = %v, %v; want about %v", what, ttl, err, full)
				}
				got, found, err := st.Load(ctx, key)
				if err != nil || !found || got.Len() != data.Len() {
					t.Errorf("%s: Load = %v, %v", what, found, err)
				}
			}
			rec := record(key, 1000, "_auth_user_id", "1")
			if err := st.Save(ctx, rec, true); err != nil {
				t.Fatal(err)
			}
			check("create", 1000, rec.Data)
			if err := st.Save(ctx, rec, true); !errors.Is(err, django.ErrCreateConflict) {
				t.Errorf("second create: %v", err)
			}
			rec = record(key, 500, "_auth_user_id", "2", "more", "data")
			if err := st.Save(ctx, rec, false); err != nil {
				t.Fatal(err)
			}
			check("update", 500, rec.Data)
			if err := st.Set(ctx, key, rec.Data, 42); err != nil {
				t.Fatal(err)
			}
			check("set", 42, rec.Data)
			// An age ≤ 0 deletes (HerdClient passes it to DefaultClient).
			if err := st.Save(ctx, record(key, 0), false); err != nil {
				t.Fatal(err)
			}
			if n, _ := rc.Exists(ctx, st.CacheKey(key)).Result(); n != 0 {
				t.Error("a save with age 0 left the entry")
			}
		})
	}
	// The §9.8 vector, as the store writes it.
	st, _ := openRedis(t, fixedSettings(time.Unix(1700000060-3600, 0)), WithHerd(60))
	rc := adminRedis(t, redisURL(t))
	ctx := testCtx(t)
	key, _ := django.NewSessionKey()
	d := py.NewDict(1)
	d.SetStr("a", py.Int(1))
	if err := st.Set(ctx, key, d, 3600); err != nil {
		t.Fatal(err)
	}
	raw, _ := rc.Get(ctx, st.CacheKey(key)).Bytes()
	want, _ := pickle.DumpsHerd(py.DictOf(d), 1700000060, pickle.DefaultProtocol)
	if !bytes.Equal(raw, want) {
		t.Errorf("stored %x, want the §9.8 vector %x", raw, want)
	}
}

// TestHerdStale: HerdClient.get's rule on a fixed clock, with the random
// draw fixed: a wrapped value past its deadline by x < CACHE_HERD_TIMEOUT
// is read when x + randint(1, H) < H and is a miss otherwise; at x ≥ H it
// is always a miss (no draw); at or before its deadline it is always read.
func TestHerdStale(t *testing.T) {
	now := time.Unix(1700000000, 0)
	const h = 60
	st, _ := openRedis(t, fixedSettings(now), WithHerd(h))
	rc := adminRedis(t, redisURL(t))
	ctx := testCtx(t)
	key, _ := django.NewSessionKey()
	data := herdSession("_auth_user_id", "7")
	f := codec.DjangoRedis{}
	for _, tc := range []struct {
		past  int64 // seconds past the deadline
		draw  int   // randIntN's answer (randint − 1); -1: must not draw
		found bool
	}{
		{-3600, -1, true},
		{0, -1, true},
		{1, 0, true},   // 1 + 1 < 60
		{1, 57, true},  // 1 + 58 < 60
		{1, 58, false}, // 1 + 59 ≥ 60
		{30, 28, true},
		{30, 29, false},
		{59, 0, false}, // 59 + 1 ≥ 60
		{h, -1, false},
		{h + 1, -1, false},
		{1 << 40, -1, false},
	} {
		raw, err := f.EncodeHerd(py.DictOf(data), now.Unix()-tc.past)
		if err != nil {
			t.Fatal(err)
		}
		if err := rc.Set(ctx, st.CacheKey(key), raw, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		drew := false
		st.randIntN = func(n int) int {
			if n != h || tc.draw < 0 {
				t.Errorf("past %d: randIntN(%d) called", tc.past, n)
			}
			drew = true
			return tc.draw
		}
		got, found, err := st.Load(ctx, key)
		if err != nil || found != tc.found || (found && got.Len() != 1) {
			t.Errorf("past %d, draw %d: Load = %v, %v; want found %v", tc.past, tc.draw, found, err, tc.found)
		}
		if want := tc.draw >= 0; drew != want {
			t.Errorf("past %d: drew %v", tc.past, drew)
		}
		// Listing never draws and reports the deadline.
		st.randIntN = func(int) int { t.Error("List drew"); return 0 }
		listed := false
		err = st.List(ctx, func(in django.Info) error {
			if in.SessionKey == key {
				listed = true
				if in.Data == nil || !in.ExpireDate.Equal(time.Unix(now.Unix()-tc.past, 0)) {
					t.Errorf("past %d: listed %v, %v", tc.past, in.ExpireDate, in.Data)
				}
			}
			return nil
		})
		if err != nil || !listed {
			t.Errorf("List: %v, listed %v", err, listed)
		}
	}
	// With the real draw (math/rand/v2), a value 1 s past its deadline is
	// served stale 58 times in 60, one 59 s past never.
	st.randIntN = nil
	for _, past := range []int64{1, 59} {
		raw, _ := f.EncodeHerd(py.DictOf(data), now.Unix()-past)
		rc.Set(ctx, st.CacheKey(key), raw, time.Minute)
		hits := 0
		for i := 0; i < 400; i++ {
			if _, found, _ := st.Load(ctx, key); found {
				hits++
			}
		}
		if (past == 1 && (hits < 300 || hits == 400)) || (past == 59 && hits != 0) {
			t.Errorf("past %d: %d hits in 400", past, hits)
		}
	}
	// CACHE_HERD_TIMEOUT 0: a miss from one second past the deadline.
	st0, _ := openRedis(t, fixedSettings(now), WithHerd(0))
	st0.randIntN = func(int) int { t.Error("drew with H = 0"); return 0 }
	for past, want := range map[int64]bool{0: true, 1: false} {
		raw, _ := f.EncodeHerd(py.DictOf(data), now.Unix()-past)
		rc.Set(ctx, st0.CacheKey(key), raw, time.Minute)
		if _, found, err := st0.Load(ctx, key); found != want || err != nil {
			t.Errorf("H=0, past %d: %v %v", past, found, err)
		}
	}
}

// TestHerdPlainValues: a Herd store reads values HerdClient did not wrap
// (set by DefaultClient, or with no timeout), as HerdClient does; a store
// without Herd finds no session in a wrapped value, as DefaultClient finds
// a tuple and no session dict.
func TestHerdPlainValues(t *testing.T) {
	s, _ := storetest.Settings()
	for _, comp := range []string{"none", "zlib"} {
		herd, prefix := openRedis(t, s, WithHerd(60), WithCompressor(comp))
		plain, err := Open(redisURL(t), s, WithKeyPrefix(prefix), WithCompressor(comp))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { plain.Close() })
		ctx := testCtx(t)
		k1, _ := django.NewSessionKey()
		k2, _ := django.NewSessionKey()
		if err := plain.Save(ctx, record(k1, 100, "a", "plain"), true); err != nil {
			t.Fatal(err)
		}
		if err := herd.Save(ctx, record(k2, 100, "a", "herd "+comp), true); err != nil {
			t.Fatal(err)
		}
		if d, found, err := herd.Load(ctx, k1); err != nil || !found || py.DictOf(d).Repr() != "{'a': 'plain'}" {
			t.Errorf("%s: herd store reading a plain value: %v %v", comp, found, err)
		}
		if d, found, err := herd.Load(ctx, k2); err != nil || !found || py.DictOf(d).Repr() != "{'a': 'herd "+comp+"'}" {
			t.Errorf("%s: herd store reading its value: %v %v", comp, found, err)
		}
		if _, found, err := plain.Load(ctx, k2); err != nil || found {
			t.Errorf("%s: plain store reading a wrapped value: %v %v", comp, found, err)
		}
		// Exists is EXISTS either way (HerdClient keeps DefaultClient's has_key).
		if ok, err := herd.Exists(ctx, k1); !ok || err != nil {
			t.Errorf("%s: Exists: %v %v", comp, ok, err)
		}
	}
}

// TestHerdHostileValues: values planted under a session key that name the
// Marker in shapes django-redis never writes, or wrap something that is
// not a session, are no session: never an error, never a panic.
func TestHerdHostileValues(t *testing.T) {
	now := time.Unix(1700000000, 0)
	st, _ := openRedis(t, fixedSettings(now), WithHerd(60))
	stz, _ := openRedis(t, fixedSettings(now), WithHerd(60), WithCompressor("zlib"))
	rc := adminRedis(t, redisURL(t))
	ctx := testCtx(t)
	const (
		p4       = "\x80\x04\x8c\x18django_redis.client.herd\x8c\x06Marker\x93"
		future   = "J\x00\x00\x00\x70" // BININT 1879048192
		sess     = "}\x8c\x01aK\x01s"  // {'a': 1}
		marker   = ")\x81"
		goodHerd = p4 + marker + sess + future + "\x87."
	)
	// The well-formed one is found, so each failure below is the variation's.
	for _, tc := range []struct {
		name  string
		raw   string
		found bool
	}{
		{"well-formed", goodHerd, true},
		{"Marker with state", p4 + marker + "}\x8c\x01xK\x01sb" + sess + future + "\x87.", false},
		{"Marker with args", p4 + "K\x01\x85\x81" + sess + future + "\x87.", false},
		{"Marker called", p4 + ")R" + sess + future + "\x87.", false},
		{"class, not instance", p4 + sess + future + "\x87.", false},
		{"arity 2", p4 + marker + sess + "\x86.", false},
		{"arity 4", "(" + p4 + marker + sess + future + "Nt.", false},
		{"list, not tuple", "\x80\x04](" + p4[2:] + marker + sess + future + "e.", false},
		{"float deadline", p4 + marker + sess + "GA\xd9\x54\x5d\x40\x00\x00\x00\x87.", false},
		{"str deadline", p4 + marker + sess + "\x8c\x0a1879048192\x87.", false},
		{"None deadline", p4 + marker + sess + "N\x87.", false},
		{"bool deadline", p4 + marker + sess + "\x88\x87.", false},
		{"Marker as deadline", p4 + marker + "\x94" + sess + "h\x00\x87.", false},
		{"Marker in the session", p4 + marker + "\x94}\x8c\x01mh\x00s" + future + "\x87.", false},
		{"not a dict", p4 + marker + "]" + future + "\x87.", false},
		{"None wrapped", p4 + marker + "N" + future + "\x87.", false},
		{"nested wrapper", p4 + marker + "\x94h\x00" + sess + future + "\x87" + future + "\x87.", false},
		{"huge deadline", p4 + marker + sess + "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01\x87.", true},
		{"hugely negative deadline", p4 + marker + sess + "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\xff\x87.", false},
		{"other global", "\x80\x04\x8c\x02os\x8c\x06system\x93" + marker + sess + future + "\x87.", false},
		{"truncated", goodHerd[:len(goodHerd)-2], false},
		{"int", "1879048192", false},
	} {
		for _, s := range []*Store{st, stz} {
			key, _ := django.NewSessionKey()
			raw := []byte(tc.raw)
			if s == stz && len(raw) > 15 && tc.name != "int" {
				raw, _ = codec.ZlibCompressor{}.Compress(raw)
			}
			if err := rc.Set(ctx, s.CacheKey(key), raw, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			s.randIntN = func(int) int { return 0 }
			if _, found, err := s.Load(ctx, key); found != tc.found || err != nil {
				t.Errorf("%s (zlib %v): Load = %v, %v; want found %v", tc.name, s == stz, found, err, tc.found)
			}
		}
	}
}

// TestHerdJSONSerializer: django-redis's JSON serializer cannot write the
// Marker (TypeError), so a Herd store with it fails every save with an
// age, and reads plain JSON values.
func TestHerdJSONSerializer(t *testing.T) {
	s, _ := storetest.Settings()
	st, prefix := openRedis(t, s, WithHerd(60), WithSerializer("json"))
	plain, err := Open(redisURL(t), s, WithKeyPrefix(prefix), WithSerializer("json"))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	ctx := testCtx(t)
	key, _ := django.NewSessionKey()
	if err := st.Save(ctx, record(key, 60, "a", "b"), true); !errors.Is(err, codec.ErrUnsupported) {
		t.Errorf("Save: %v, want codec.ErrUnsupported", err)
	}
	if err := plain.Save(ctx, record(key, 60, "a", "b"), true); err != nil {
		t.Fatal(err)
	}
	if d, found, err := st.Load(ctx, key); err != nil || !found || py.DictOf(d).Repr() != "{'a': 'b'}" {
		t.Errorf("Load of a plain JSON value: %v %v", found, err)
	}
}

// herdEval sets django-redis's CACHE_HERD_TIMEOUT (read once, at import,
// from settings) before interopEval runs; then it reports the TTLs of
// what Django wrote.
const herdEval = `
import django_redis.client.herd as _herd
_herd.CACHE_HERD_TIMEOUT = input["herd_timeout"]
` + interopEval

// TestDjangoHerdInterop: Django 3.2 with django-redis 5.2's HerdClient
// (pickle, with and without compression; CACHE_HERD_TIMEOUT default and
// 90) writes sessions through its cache backend and our Herd store reads
// them; our store writes, and Django's SessionStore(key).load() reads
// ours. Both sides' Redis TTL is the expiry age plus CACHE_HERD_TIMEOUT,
// and Django's stored bytes are what EncodeHerd writes for the same
// session and deadline. Django reads a value we wrote with a deadline
// more than CACHE_HERD_TIMEOUT in the past as no session, and reads a
// plain value we wrote without Herd.
func TestDjangoHerdInterop(t *testing.T) {
	havePython(t)
	ru := redisURL(t)
	for _, herdTimeout := range []int{60, 90} {
		t.Run("herd_timeout="+strconv.Itoa(herdTimeout), func(t *testing.T) {
			djangoHerdInterop(t, ru, herdTimeout)
		})
	}
}

func djangoHerdInterop(t *testing.T, ru string, herdTimeout int) {
	prefix := testPrefix()
	t.Cleanup(func() { deletePrefix(t, adminRedis(t, ru), prefix) })
	type alias struct {
		name   string
		comp   string // ours
		djComp string // django-redis COMPRESSOR
		exact  bool
	}
	aliases := []alias{
		{"herd_pickle", "none", "", true},
		{"herd_zlib", "zlib", "django_redis.compressors.zlib.ZlibCompressor", false},
		{"herd_lzma", "lzma", "django_redis.compressors.lzma.LzmaCompressor", false},
	}
	s, _ := storetest.Settings()
	s.Clock = nil // Django runs on the wall clock
	// A clock 3661 s behind: with an age of 3600 the deadline is 61 s
	// past, so HerdClient reads a miss whatever it draws (up to H 60).
	stale, _ := storetest.Settings()
	behind := time.Duration(3600+herdTimeout+1) * time.Second
	stale.Clock = func() time.Time { return time.Now().Add(-behind) }
	ctx := testCtx(t)
	caches := map[string]any{}
	stores := map[string]*Store{}
	read := map[string][]string{}
	write := map[string][]json.RawMessage{}
	var staleKeys, plainKeys []string
	url := ru + "?client_class=django_redis.client.HerdClient&herd_timeout=" + strconv.Itoa(herdTimeout)
	before := time.Now().Unix()
	for _, a := range aliases {
		opts := map[string]any{"CLIENT_CLASS": "django_redis.client.HerdClient"}
		if a.djComp != "" {
			opts["COMPRESSOR"] = a.djComp
		}
		caches[a.name] = map[string]any{"BACKEND": "django_redis.cache.RedisCache", "LOCATION": ru, "KEY_PREFIX": prefix, "OPTIONS": opts}
		st, err := Open(url, s, WithKeyPrefix(prefix), WithCompressor(a.comp))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores[a.name] = st
		read[a.name] = saveInteropSessions(ctx, t, st, s, a.name, true)
		write[a.name] = []json.RawMessage{interopInput(false), interopInput(true)}
		if a.name == "herd_pickle" {
			// Stale beyond the herd timeout, and plain (no Herd).
			old, err := Open(url, stale, WithKeyPrefix(prefix))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { old.Close() })
			plain, err := Open(ru, s, WithKeyPrefix(prefix))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { plain.Close() })
			staleKeys = append(staleKeys, saveInteropSessions(ctx, t, old, s, "stale", false)...)
			plainKeys = append(plainKeys, saveInteropSessions(ctx, t, plain, s, "plain", false)...)
			read[a.name] = append(read[a.name], staleKeys[0], plainKeys[0])
		}
	}
	caches["default"] = caches[aliases[0].name]
	out := djangoReadWrite(t, caches, herdEval, map[string]any{"read": read, "write": write, "herd_timeout": herdTimeout})
	after := time.Now().Unix()
	rc := adminRedis(t, ru)
	for _, a := range aliases {
		t.Run(a.name, func(t *testing.T) {
			st := stores[a.name]
			got := out.Read[a.name]
			if len(got) != len(read[a.name]) {
				t.Fatalf("Django read %d sessions, want %d", len(got), len(read[a.name]))
			}
			// Django read ours (and, for herd_pickle, missed the stale
			// one and read the plain one).
			for i, g := range got {
				var want []byte
				switch {
				case i < 2:
					want, _ = py.NormalJSON(py.DictOf(interopData(t, i == 1)))
				case i == 2:
					want = []byte("{}")
				default:
					want, _ = py.NormalJSON(py.DictOf(interopData(t, false)))
				}
				if !sameJSON(t, g, want) {
					t.Errorf("Django read our session %d as\n %s\nwant\n %s", i, g, want)
				}
			}
			// We read Django's, and its bytes are EncodeHerd's.
			f, _ := herdFormat(st.Format())
			for i, key := range out.Written[a.name] {
				d, found, err := st.Load(ctx, key)
				if err != nil || !found {
					t.Fatalf("Load(Django's session %d): %v %v", i, found, err)
				}
				gotJ, _ := py.NormalJSON(py.DictOf(d))
				wantJ, _ := py.NormalJSON(py.DictOf(interopData(t, i == 1)))
				if !sameJSON(t, gotJ, wantJ) {
					t.Errorf("we read Django's session %d as\n %s\nwant\n %s", i, gotJ, wantJ)
				}
				raw, err := rc.Get(ctx, st.CacheKey(key)).Bytes()
				if err != nil {
					t.Fatal(err)
				}
				v, deadline, herd, err := f.DecodeHerd(raw)
				if err != nil || !herd || deadline < before+3600 || deadline > after+3600 {
					t.Errorf("Django's session %d: herd %v, deadline %d (want %d..%d), %v", i, herd, deadline, before+3600, after+3600, err)
				}
				if a.exact {
					ours, _ := f.EncodeHerd(v, deadline)
					if !bytes.Equal(ours, raw) {
						t.Errorf("Django's session %d: stored %x\nEncodeHerd %x", i, raw, ours)
					}
				}
			}
			// TTL: _session_expiry 3600 → 3600 + CACHE_HERD_TIMEOUT on both.
			full := time.Duration(3600+herdTimeout) * time.Second
			for _, k := range []string{read[a.name][0], out.Written[a.name][0]} {
				ttl, err := rc.PTTL(ctx, st.CacheKey(k)).Result()
				if err != nil || ttl < full-15*time.Second || ttl > full {
					t.Errorf("PTTL of %s: %v %v, want about %v", k, ttl, err, full)
				}
			}
		})
	}
}

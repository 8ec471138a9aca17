package cache

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle"
	"github.com/djsession/djsession/pickle/py"
)

// bigSession is the session {"k": "x" * n}.
func bigSession(n int) *py.Dict {
	d := py.NewDict(1)
	d.SetStr("k", py.Str(strings.Repeat("x", n)))
	return d
}

// TestMaxValueSizeRaisesReadBounds: a pickled session of 12 MiB, which a
// store with the default limit does not read, is read by a store whose
// max_value_size (option or URL) is 16 MiB or unlimited, in every value
// format that pickles, compressed or not and with HerdClient; the pickle
// reader's and the formats' own bounds follow the store's. One of 7 MiB,
// over the pickle reader's former 1 MiB, is read at the default limit.
// Bounds set on the format itself are kept.
func TestMaxValueSizeRaisesReadBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 12 MiB values")
	}
	s, _ := storetest.Settings()
	u := redisURL(t)
	// Not testCtx's 30 s: some forty 7–12 MiB values are pickled,
	// compressed and read back, which takes longer than that under -race
	// on a slow machine.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const big, mid = 12 << 20, 7 << 20
	sixteen := 16 << 20
	withQuery := func(q string) string {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		if p.RawQuery != "" {
			p.RawQuery += "&"
		}
		p.RawQuery += q
		return p.String()
	}
	// Megabyte writes can pass the default 3 s socket timeout on a loaded
	// machine (seen under -race with a fuzzer running).
	admin := u
	u = withQuery("socket_timeout=30")
	type config struct {
		name string
		url  string
		opts []Option
		// whether the 12 MiB session is read
		bigOK bool
	}
	var configs []config
	for _, f := range []struct {
		name string
		opts []Option
	}{
		{"django-redis pickle", nil},
		{"django-redis pickle zlib", []Option{WithCompressor("zlib")}},
		{"django-redis pickle herd", []Option{WithHerd(60)}},
		{"django RedisCache", []Option{WithFormatName("django")}},
	} {
		configs = append(configs,
			config{f.name + ", default limit", u, f.opts, false},
			config{f.name + ", WithMaxValueSize(16 MiB)", u, append([]Option{WithMaxValueSize(sixteen)}, f.opts...), true},
			config{f.name + ", WithMaxValueSize(-1)", u, append([]Option{WithMaxValueSize(-1)}, f.opts...), true},
			config{f.name + ", ?max_value_size=16 MiB", withQuery("max_value_size=" + strconv.Itoa(sixteen)), f.opts, true},
			config{f.name + ", ?max_value_size=-1", withQuery("max_value_size=-1"), f.opts, true},
		)
	}
	// A limit set on the format wins over the store's.
	own := codec.DjangoRedis{Serializer: codec.PickleSerializer{Limits: pickle.Limits{MaxInput: 10 << 20}}}
	configs = append(configs,
		config{"format with its own MaxInput, no limit", u, []Option{WithFormat(own), WithMaxValueSize(-1)}, false},
		config{"format with its own MaxSize, no limit", u, []Option{WithFormat(codec.DjangoRedisCache{MaxSize: 10 << 20}), WithMaxValueSize(-1)}, false},
	)
	for _, c := range configs {
		prefix := testPrefix()
		st, err := Open(c.url, s, append([]Option{WithKeyPrefix(prefix)}, c.opts...)...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		rc := adminRedis(t, admin)
		func() {
			defer func() {
				st.Close()
				deletePrefix(t, rc, prefix)
			}()
			for _, n := range []int{mid, big} {
				key, _ := django.NewSessionKey()
				if err := st.Set(ctx, key, bigSession(n), 60); err != nil {
					t.Fatalf("%s: Set(%d): %v", c.name, n, err)
				}
				stored, err := rc.StrLen(ctx, st.CacheKey(key)).Result()
				if err != nil {
					t.Fatal(err)
				}
				want := n == mid || c.bigOK
				d, ok, err := st.Load(ctx, key)
				if err != nil || ok != want {
					t.Errorf("%s: %d MiB session (%d bytes stored): Load found %v, %v; want %v", c.name, n>>20, stored, ok, err, want)
					continue
				}
				if ok {
					v, _ := d.GetStr("k")
					if sv, _ := v.Str(); len(sv) != n {
						t.Errorf("%s: loaded %d characters, want %d", c.name, len(sv), n)
					}
				}
			}
		}()
	}
}

// TestReadBoundFormat: which bounds a store's value limit raises in each
// format of package codec, without a server.
func TestReadBoundFormat(t *testing.T) {
	const mib = 1 << 20
	pickleMax := func(f codec.Format) int {
		switch x := f.(type) {
		case codec.DjangoRedis:
			switch s := x.Serializer.(type) {
			case codec.PickleSerializer:
				return s.Limits.MaxInput
			case *codec.PickleSerializer:
				return s.Limits.MaxInput
			}
			return 0 // not a pickle serializer, or nil
		case *codec.DjangoRedis:
			return x.Serializer.(codec.PickleSerializer).Limits.MaxInput
		case codec.DjangoRedisCache:
			return x.Limits.MaxInput
		case codec.PyMemcache:
			return x.Limits.MaxInput
		case *codec.PyLibMC:
			return x.Limits.MaxInput
		}
		return -2
	}
	maxSize := func(f codec.Format) int {
		switch x := f.(type) {
		case codec.DjangoRedis:
			return x.MaxSize
		case *codec.DjangoRedis:
			return x.MaxSize
		case codec.DjangoRedisCache:
			return x.MaxSize
		case codec.PyMemcache:
			return x.MaxSize
		case *codec.PyLibMC:
			return x.MaxSize
		}
		return -2
	}
	ptrDR := &codec.DjangoRedis{Serializer: codec.PickleSerializer{Protocol: 5}}
	ptrLibMC := &codec.PyLibMC{MinCompressLen: 10}
	for _, c := range []struct {
		name             string
		f                codec.Format
		maxValue         int
		wantIn, wantSize int
	}{
		{"django-redis, 1 KiB", codec.DjangoRedis{}, 1 << 10, 0, 0},
		{"django-redis, 8 MiB", codec.DjangoRedis{}, 8 * mib, 0, 0},
		{"django-redis, 12 MiB", codec.DjangoRedis{}, 12 * mib, 12 * mib, 0},
		{"django-redis, 32 MiB", codec.DjangoRedis{}, 32 * mib, 32 * mib, 32 * mib},
		{"django-redis, no limit", codec.DjangoRedis{}, 0, 512 * mib, 512 * mib},
		{"django-redis json, no limit", codec.DjangoRedis{Serializer: codec.JSONSerializer{}}, 0, 0, 512 * mib},
		{"django-redis own MaxInput", codec.DjangoRedis{Serializer: &codec.PickleSerializer{Limits: pickle.Limits{MaxInput: 2 * mib}}, MaxSize: 3 * mib}, 0, 2 * mib, 3 * mib},
		{"*django-redis, 20 MiB", ptrDR, 20 * mib, 20 * mib, 20 * mib},
		{"django RedisCache, no limit", codec.DjangoRedisCache{}, 0, 512 * mib, 512 * mib},
		{"pymemcache, 9 MiB", codec.PyMemcache{}, 9 * mib, 9 * mib, 0},
		{"*pylibmc, 17 MiB", ptrLibMC, 17 * mib, 17 * mib, 17 * mib},
	} {
		got := readBoundFormat(c.f, c.maxValue)
		if in, size := pickleMax(got), maxSize(got); in != c.wantIn || size != c.wantSize {
			t.Errorf("%s: MaxInput %d, MaxSize %d; want %d, %d", c.name, in, size, c.wantIn, c.wantSize)
		}
	}
	// Pointer formats are copied, not changed.
	if ptrDR.MaxSize != 0 || ptrDR.Serializer.(codec.PickleSerializer).Limits.MaxInput != 0 || ptrDR.Serializer.(codec.PickleSerializer).Protocol != 5 {
		t.Errorf("*DjangoRedis changed: %+v", *ptrDR)
	}
	if ptrLibMC.MaxSize != 0 || ptrLibMC.Limits.MaxInput != 0 {
		t.Errorf("*PyLibMC changed: %+v", *ptrLibMC)
	}
	// Other formats are left alone.
	type other struct{ codec.DjangoRedis }
	if o := (other{}); readBoundFormat(o, 0) != codec.Format(o) {
		t.Error("a format of another type was changed")
	}
}

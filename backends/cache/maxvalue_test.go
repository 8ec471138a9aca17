package cache

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

// sessionValue returns the store's encoding of {"k": "x"*n}.
func sessionValue(t testing.TB, st *Store, n int) ([]byte, uint32) {
	t.Helper()
	d := py.NewDict(1)
	d.SetStr("k", py.Str(strings.Repeat("x", n)))
	b, flags, err := st.Format().Encode(py.DictOf(d))
	if err != nil {
		t.Fatal(err)
	}
	return b, flags
}

// valuePair returns two valid session values whose lengths are n and n+1.
func valuePair(t testing.TB, st *Store) (atLimit, over []byte, flags uint32) {
	t.Helper()
	atLimit, flags = sessionValue(t, st, 100)
	over, _ = sessionValue(t, st, 101)
	if len(over) != len(atLimit)+1 {
		t.Fatalf("encodings of 100 and 101 characters: %d and %d bytes", len(atLimit), len(over))
	}
	return atLimit, over, flags
}

// cmdNames records the names of the commands a go-redis client sends.
type cmdNames struct {
	mu    sync.Mutex
	names []string
}

func (h *cmdNames) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *cmdNames) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.add(cmd)
		return next(ctx, cmd)
	}
}

func (h *cmdNames) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			h.add(c)
		}
		return next(ctx, cmds)
	}
}

func (h *cmdNames) add(cmd redis.Cmder) {
	switch cmd.Name() {
	case "hello", "client", "auth", "select", "ping":
		return // connection setup
	}
	h.mu.Lock()
	h.names = append(h.names, cmd.Name())
	h.mu.Unlock()
}

// take returns the names recorded since the last call.
func (h *cmdNames) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.names
	h.names = nil
	return n
}

// hookRedis records the commands of a single-server Redis store.
func hookRedis(t testing.TB, st *Store) *cmdNames {
	t.Helper()
	rc, ok := st.Client().(*redisClient)
	if !ok {
		t.Fatalf("client %T", st.Client())
	}
	h := &cmdNames{}
	rc.write.(*redis.Client).AddHook(h)
	return h
}

func wantLoad(t *testing.T, what string, st *Store, key string, found bool) {
	t.Helper()
	d, ok, err := st.Load(testCtx(t), key)
	if err != nil || ok != found || (found && d == nil) {
		t.Errorf("%s: Load = %v, %v, %v; want found %v, no error", what, d, ok, err, found)
	}
}

// TestMaxValueSizeRedis: a value one byte over the limit is "no session"
// (found false, no error), read with GETRANGE, never GET; a valid session
// exactly at the limit is found; an empty value is not found.
func TestMaxValueSizeRedis(t *testing.T) {
	s, _ := storetest.Settings()
	def, _ := openRedis(t, s)
	if def.MaxValueSize() != DefaultMaxValueSize {
		t.Fatalf("default MaxValueSize = %d", def.MaxValueSize())
	}
	atLimit, over, _ := valuePair(t, def)
	st, _ := openRedis(t, s, WithMaxValueSize(len(atLimit)))
	rc := adminRedis(t, redisURL(t))
	ctx := testCtx(t)
	plant := func(v []byte) string {
		t.Helper()
		key, _ := django.NewSessionKey()
		if err := rc.Set(ctx, st.CacheKey(key), v, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		// def shares the server and KEY_PREFIX scheme but not the prefix:
		// copy the value under def's key as well.
		if err := rc.Set(ctx, def.CacheKey(key), v, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		return key
	}
	h := hookRedis(t, st)
	kAt, kOver, kEmpty := plant(atLimit), plant(over), plant(nil)
	wantLoad(t, "exactly at the limit", st, kAt, true)
	wantLoad(t, "one byte over the limit", st, kOver, false)
	wantLoad(t, "one byte over the limit, default limit", def, kOver, true)
	wantLoad(t, "empty value", st, kEmpty, false)
	wantLoad(t, "empty value, default limit", def, kEmpty, false)
	for _, name := range h.take() {
		if name != "getrange" {
			t.Errorf("Load sent %q, want only getrange", name)
		}
	}
	// WRONGTYPE stays a miss (and List skips the key, as before).
	kHash, _ := django.NewSessionKey()
	if err := rc.HSet(ctx, st.CacheKey(kHash), "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	wantLoad(t, "a hash", st, kHash, false)

	// The listing reads bounded too: the long value has nil Data, the
	// others their own; the hash is not listed.
	h.take()
	data := map[string]bool{}
	err := st.List(ctx, func(in django.Info) error {
		data[in.SessionKey] = in.Data != nil
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{kAt: true, kOver: false, kEmpty: false}; !equalMap(data, want) {
		t.Errorf("List: has Data %v, want %v", data, want)
	}
	for _, name := range h.take() {
		if name == "get" {
			t.Error("List sent GET")
		}
	}

	// No limit: GET, as Django.
	unl, _ := openRedis(t, s, WithMaxValueSize(-1))
	if unl.MaxValueSize() != 0 {
		t.Errorf("MaxValueSize with -1 = %d, want 0", unl.MaxValueSize())
	}
	hu := hookRedis(t, unl)
	k := "nolimit1"
	if err := rc.Set(ctx, unl.CacheKey(k), over, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	wantLoad(t, "no limit", unl, k, true)
	if names := hu.take(); len(names) != 1 || names[0] != "get" {
		t.Errorf("Load without a limit sent %v, want [get]", names)
	}
}

func equalMap(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestDefaultMaxValueSize: at the default limit a valid session is found;
// one byte more is not (but is without a limit). JSON here; pickled
// sessions over the default limit are TestMaxValueSizeRaisesReadBounds's.
func TestDefaultMaxValueSize(t *testing.T) {
	s, _ := storetest.Settings()
	def, _ := openRedis(t, s, WithSerializer("json"))
	unl, _ := openRedis(t, s, WithSerializer("json"), WithMaxValueSize(-1))
	rc := adminRedis(t, redisURL(t))
	ctx := testCtx(t)
	// The encoding's overhead is the same for all long strings.
	const n = 1 << 20
	probe, _ := sessionValue(t, def, n)
	overhead := len(probe) - n
	for _, size := range []int{DefaultMaxValueSize, DefaultMaxValueSize + 1} {
		v, _ := sessionValue(t, def, size-overhead)
		if len(v) != size {
			t.Fatalf("value of %d bytes, want %d", len(v), size)
		}
		key, _ := django.NewSessionKey()
		for _, st := range []*Store{def, unl} {
			if err := rc.Set(ctx, st.CacheKey(key), v, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
		}
		wantLoad(t, "default limit", def, key, size <= DefaultMaxValueSize)
		wantLoad(t, "no limit", unl, key, true)
	}
}

// plainClient hides a client's BoundedClient methods: the Store reads with
// Get and Scan and drops long values after reading them.
type plainClient struct{ Client }

func TestMaxValueSizePlainClient(t *testing.T) {
	s, _ := storetest.Settings()
	inner, _ := openRedis(t, s)
	atLimit, over, _ := valuePair(t, inner)
	st, err := New(plainClient{inner.Client()}, s, WithFormat(inner.Format()),
		WithKeyPrefix(strings.Split(inner.CacheKey(""), ":")[0]), WithMaxValueSize(len(atLimit)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Client().(BoundedClient); ok {
		t.Fatal("plainClient is a BoundedClient")
	}
	rc := adminRedis(t, redisURL(t))
	ctx := testCtx(t)
	keys := map[string]bool{}
	for _, v := range [][]byte{atLimit, over, nil} {
		key, _ := django.NewSessionKey()
		if err := rc.Set(ctx, st.CacheKey(key), v, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		keys[key] = len(v) == len(atLimit)
		wantLoad(t, "plain client", st, key, keys[key])
	}
	data := map[string]bool{}
	if err := st.List(ctx, func(in django.Info) error {
		data[in.SessionKey] = in.Data != nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !equalMap(data, keys) {
		t.Errorf("List: has Data %v, want %v", data, keys)
	}
}

// TestMaxValueSizeShard: the same through django-redis's shard ring.
func TestMaxValueSizeShard(t *testing.T) {
	t.Parallel()
	a, b := startRedis(t, false), startRedis(t, false)
	url := "redis://" + addr(a) + "," + addr(b) + "/3?client_class=django_redis.client.ShardClient"
	s, _ := storetest.Settings()
	probe, err := Open(url, s)
	if err != nil {
		t.Fatal(err)
	}
	atLimit, over, _ := valuePair(t, probe)
	probe.Close()
	st, err := Open(url+"&max_value_size=1", s, WithMaxValueSize(len(atLimit)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.MaxValueSize() != len(atLimit) {
		t.Fatalf("MaxValueSize = %d, want the option's %d over the URL's", st.MaxValueSize(), len(atLimit))
	}
	nodes := map[string]*redis.Client{
		"redis://" + addr(a) + "/3": redis.NewClient(&redis.Options{Addr: addr(a), DB: 3}),
		"redis://" + addr(b) + "/3": redis.NewClient(&redis.Options{Addr: addr(b), DB: 3}),
	}
	for _, c := range nodes {
		defer c.Close()
	}
	ring := NewHashRing([]string{"redis://" + addr(a) + "/3", "redis://" + addr(b) + "/3"})
	ctx := testCtx(t)
	want := map[string]bool{}
	used := map[string]bool{}
	for i := 0; i < 12 || len(used) < 2 && i < 300; i++ {
		v := [][]byte{atLimit, over, nil}[i%3]
		key, _ := django.NewSessionKey()
		ck := st.CacheKey(key)
		used[ring.Node(ck)] = true
		if err := nodes[ring.Node(ck)].Set(ctx, ck, v, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		want[key] = i%3 == 0
		wantLoad(t, "shard", st, key, want[key])
	}
	if len(used) != 2 {
		t.Errorf("values on %d shards", len(used))
	}
	got := map[string]bool{}
	if err := st.List(ctx, func(in django.Info) error {
		got[in.SessionKey] = in.Data != nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !equalMap(got, want) {
		t.Errorf("List: has Data %v, want %v", got, want)
	}
}

// TestMaxValueSizeMemcached: memcached reads the item (its own item limit
// bounds it), then the same rules apply, through the client's GetBounded
// and through the Store's check after a plain Get.
func TestMaxValueSizeMemcached(t *testing.T) {
	s, _ := storetest.Settings()
	probe, _ := openMemcached(t, s)
	atLimit, over, flags := valuePair(t, probe)
	bounded, err := Open("pymemcache://"+memcachedAddr(t), s, WithKeyPrefix(testPrefix()), WithMaxValueSize(len(atLimit)))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := openMemcached(t, s, WithMaxValueSize(len(atLimit)))
	if _, ok := plain.Client().(BoundedClient); ok {
		t.Fatal("the recording client is a BoundedClient")
	}
	ctx := testCtx(t)
	var planted []string
	t.Cleanup(func() {
		for _, ck := range planted {
			if _, err := bounded.Client().Delete(context.Background(), ck); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		bounded.Close()
	})
	for _, st := range []*Store{bounded, plain} {
		for _, v := range [][]byte{atLimit, over, nil} {
			key, _ := django.NewSessionKey()
			ck := st.CacheKey(key)
			planted = append(planted, ck)
			if err := bounded.Client().Set(ctx, ck, Item{Value: v, Flags: flags}, time.Minute); err != nil {
				t.Fatal(err)
			}
			wantLoad(t, "memcached", st, key, len(v) == len(atLimit))
		}
	}
	if err := bounded.List(ctx, func(django.Info) error { return nil }); !errors.Is(err, django.ErrNotSupported) {
		t.Errorf("List on memcached: %v", err)
	}
}

func TestMaxValueSizeURL(t *testing.T) {
	s, _ := storetest.Settings()
	for _, tc := range []struct {
		url  string
		opts []Option
		want int
	}{
		{"redis://127.0.0.1:6379/0", nil, DefaultMaxValueSize},
		{"redis://127.0.0.1:6379/0?max_value_size=1000", nil, 1000},
		{"redis://127.0.0.1:6379/0?MAX_VALUE_SIZE=-1", nil, 0},
		{"redis://127.0.0.1:6379/0?max_value_size=0", nil, DefaultMaxValueSize},
		{"redis://127.0.0.1:6379/0?max_value_size=1000", []Option{WithMaxValueSize(0)}, 1000},
		{"redis://127.0.0.1:6379/0?max_value_size=1000", []Option{WithMaxValueSize(2000)}, 2000},
		{"redis://127.0.0.1:6379/0?max_value_size=1000", []Option{WithMaxValueSize(-5)}, 0},
		{"memcache://127.0.0.1:11211?max_value_size=1000", nil, 1000},
	} {
		st, err := Open(tc.url, s, tc.opts...)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if got := st.MaxValueSize(); got != tc.want {
			t.Errorf("%s %d options: MaxValueSize = %d, want %d", tc.url, len(tc.opts), got, tc.want)
		}
		st.Close()
	}
	if _, err := ParseURL("redis://h/0?max_value_size=big"); !errors.Is(err, ErrInvalidURL) {
		t.Errorf("bad max_value_size: %v", err)
	}
}
